/**
 * Slow (make faults only): waits on a container's exit longer than Bun's 5-minute idle default for a request.
 * Both ways claudy waits: the attached spawn in the compiled binary (dockerode's wait beside the attach stream), and
 * the Engine's own `/wait` (helpers of backup and restore) through the JSON transport on this same Bun.
 */
import { afterAll, expect, test } from "bun:test"
import { engineRequest } from "../../src/docker/transport.ts"
import { docker, sandboxWithParent, tracked } from "../support/harness.ts"

const t = tracked()
afterAll(t.cleanup)

/** Longer than Bun's idle timeout (300 s), with no output meanwhile. */
const SILENT_SECONDS = 320

test(`a session silent for ${SILENT_SECONDS} s: the attached spawn and the Engine's /wait both get its exit code`, async () => {
  const b = await sandboxWithParent(t)
  const project = t.tempDir("claudy-long-wait-", 1000)
  // claudy's attached spawn, without a TTY (stdin ignored): it waits for the exit through dockerode
  const spawned = b.claudy(["--via-parent", "--name", "silent", project, "--", "sh", "-c", `sleep ${SILENT_SECONDS}; exit 7`])
  // a container of the test's own (labelled for the sandbox's cleanup), waited on through the transport
  const created = await docker(
    "run", "-d", "--label", `io.hal9000.instance=${b.instance}`, "--entrypoint", "sh", "ghcr.io/hellblazer/hal-9000:parent", "-c", `sleep ${SILENT_SECONDS}; exit 9`
  )
  expect(created.code).toBe(0)
  const id = created.stdout.trim()
  const waited = engineRequest({ _tag: "unix", socketPath: "/var/run/docker.sock", display: "unix:///var/run/docker.sock" }, {
    method: "POST",
    path: `/containers/${id}/wait`
  })
  const [r, w] = await Promise.all([spawned, waited])
  expect(r.code).toBe(7)
  expect(w.status).toBe(200)
  expect(JSON.parse(new TextDecoder().decode(w.body)).StatusCode).toBe(9)
}, 600_000)
