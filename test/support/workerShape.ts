/** A worker shape for unit tests of the worker specs (local container and swarm service). */
import type { WorkerShape } from "../../src/spawn/workerSpec.ts"

export const sampleShape = (over: Partial<WorkerShape> = {}): WorkerShape => ({
  owner: { instance: "hal9000", home: "abcabcabcabc" },
  image: "img:1",
  profile: "base",
  projectDir: "/srv/app",
  limits: { enabled: true, memory: { raw: "4g", bytes: 4 * 1024 ** 3 }, cpus: { raw: "2", nanoCpus: 2e9 }, pidsLimit: 100 },
  viaParent: true,
  chromadbPort: 8000,
  parent: { id: "p1", startedAt: "2026-12-02T05:00:00Z" },
  user: { uid: 1000, gid: 1000 },
  tty: true,
  claudyBinary: "/usr/local/bin/claudy-host",
  embedding: "hash",
  ...over
})
