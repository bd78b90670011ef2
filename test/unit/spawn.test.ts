import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { splitArgv } from "../../src/cli/sessionCommand.ts"
import { resolveSettings } from "../../src/config/variables.ts"
import { LABEL } from "../../src/domain/labels.ts"
import type { ContainerInspect } from "../../src/docker/types.ts"
import { pidsMaxHits } from "../../src/sessions/limitHits.ts"
import { decodeRecord, recordFromContainer, statusOf } from "../../src/sessions/record.ts"
import { createdAs } from "../../src/spawn/createWorker.ts"
import { claudeHomeFor, isMarkerFile, markerFile, markerUid, ownerMarker } from "../../src/spawn/claudeHome.ts"
import { resolveLimits } from "../../src/spawn/limits.ts"
import { refusedReason } from "../../src/spawn/projectPath.ts"
import { extraSessionName, projectSessionName, validateSessionName } from "../../src/spawn/sessionName.ts"
import { validateEnvPairs } from "../../src/spawn/Spawner.ts"
import { sampleShape } from "../support/workerShape.ts"
import { type WorkerShape, workerFingerprint, workerSpec as specOf, workerUser } from "../../src/spawn/workerSpec.ts"

const settings = (env: Record<string, string> = {}) => {
  const r = resolveSettings({ env })
  if (Either.isLeft(r)) throw r.left
  return r.right.settings
}

describe("session names", () => {
  test.each(["my-session", "a", "app-1x2y3z", "x".repeat(40)])("%p is accepted", (n) =>
    expect(Either.isRight(validateSessionName(n))).toBe(true)
  )
  test.each([
    ["", "empty"],
    ["a/b", "'/'"],
    ["a..b", "'..'"],
    ["My-Session", "uppercase"],
    ["my session", "white space"],
    ["x".repeat(41), "41 characters"],
    ["-lead", "starts or ends"],
    ["under_score", "characters other than"]
  ])("%p is refused: %s", (n, why) => {
    const r = validateSessionName(n)
    expect(Either.isLeft(r) && r.left.includes(why)).toBe(true)
  })
  test("a project's session name is its base name plus a hash of its real path: valid and stable", () => {
    const n = projectSessionName("/home/me/src/My App!")
    expect(n).toMatch(/^my-app-[0-9a-f]{8}$/)
    expect(projectSessionName("/home/me/src/My App!")).toBe(n)
    expect(projectSessionName("/home/other/My App!")).not.toBe(n)
    for (const dir of ["/", "/x/" + "Long Name ".repeat(10), "/x/---", "/x/a-".repeat(20)]) {
      expect(Either.isRight(validateSessionName(projectSessionName(dir)))).toBe(true)
      expect(Either.isRight(validateSessionName(extraSessionName(dir, "Ab_9")))).toBe(true)
    }
    expect(extraSessionName("/home/me/src/My App!", "Ab_9-x")).toBe(`${n}-ab9x`)
  })
})

describe("project paths", () => {
  const ctx = { userHome: "/home/me", halHome: "/home/me/.hal9000" }
  test.each(["/", "/etc", "/var/run", "/proc/1", "/home/me", "/home/me/.hal9000", "/home/me/.hal9000/sessions", "/tmp"])(
    "%p is refused",
    (p) => expect(refusedReason(p, ctx)).toBeString()
  )
  test.each(["/home/me/src/app", "/srv/project", "/tmp/work"])("%p is accepted", (p) => expect(refusedReason(p, ctx)).toBeUndefined())
  test("a parent of HAL9000_HOME is refused", () => expect(refusedReason("/home", { ...ctx, halHome: "/home/x/.hal9000" })).toBeString())
  test.each(["/etc/ssl", "/etc/nginx/sites", "/var/lib/docker/volumes/x/_data", "/run/secrets", "/var/run/docker", "/sys/fs/cgroup", "/boot/grub"])(
    "%p is refused: it is under a system tree",
    (p) => expect(refusedReason(p, ctx)).toContain("is inside /")
  )
  test.each([".ssh", ".aws", ".gnupg", ".kube", ".docker", ".config/gcloud", ".azure", ".password-store"])(
    "~/%s and what is under it are refused",
    (c) => {
      expect(refusedReason(`/home/me/${c}`, ctx)).toContain("which holds credentials")
      expect(refusedReason(`/home/me/${c}/sub/dir`, ctx)).toContain(`is inside /home/me/${c}`)
    }
  )
  test("a directory holding a credential store is refused", () =>
    expect(refusedReason("/home/me/.config", ctx)).toContain("contains /home/me/.config/gcloud"))
  test("a credential store reached through a symlink is refused by its real path", () => {
    const linked = { ...ctx, resolvedCredentials: ["/secrets/ssh"] }
    expect(refusedReason("/secrets/ssh/keys", linked)).toContain("is inside /secrets/ssh")
    expect(refusedReason("/secrets", linked)).toContain("contains /secrets/ssh")
  })
  test("under sudo (HOME is root's), the other users' homes and credential stores are refused too", () => {
    const sudo = { userHome: "/root", halHome: "/root/.hal9000", otherHomes: ["/root", "/home/alice"] }
    expect(refusedReason("/home/alice", sudo)).toContain("is a user's home directory")
    expect(refusedReason("/home/alice/.aws/sso", sudo)).toContain("is inside /home/alice/.aws")
    expect(refusedReason("/home/alice/.config", sudo)).toContain("contains /home/alice/.config/gcloud")
    expect(refusedReason("/home/alice/src/app", sudo)).toBeUndefined()
  })
  test("a directory named like a credential store is refused wherever it is", () => {
    expect(refusedReason("/mnt/backup/alice/.ssh", ctx)).toContain("a directory named .ssh")
    expect(refusedReason("/srv/copy/.gnupg/private-keys-v1.d", ctx)).toContain("a directory named .gnupg")
  })
  test.each(["/home/me/.configs", "/home/me/src/.ssh-notes", "/etcetera", "/devices", "/home/me/.config-backup"])(
    "%p is accepted: a prefix of the name is not a prefix of the path",
    (p) => expect(refusedReason(p, ctx)).toBeUndefined()
  )
})

describe("limits", () => {
  const s = settings()
  test("defaults come from WORKER_*", () => {
    const r = resolveLimits({ noLimits: false }, s)
    expect(r).toEqual(Either.right({ enabled: true, memory: s.workerMemory, cpus: s.workerCpus, pidsLimit: 100 }))
  })
  test("flags override", () => {
    const r = resolveLimits({ memory: "512m", cpus: "1.5", pidsLimit: "20", noLimits: false }, s)
    expect(Either.getOrThrow(r)).toEqual({
      enabled: true,
      memory: { raw: "512m", bytes: 512 * 1024 ** 2 },
      cpus: { raw: "1.5", nanoCpus: 1.5e9 },
      pidsLimit: 20
    })
  })
  test.each([
    ["memory", "0"], ["memory", "-1"], ["memory", ""], ["memory", "lots"], ["memory", "4x"],
    ["cpus", "0"], ["cpus", "-1"], ["cpus", ""], ["pidsLimit", "0"], ["pidsLimit", "-1"], ["pidsLimit", "lots"]
  ])("--%s %p is refused naming the flag", (key, value) => {
    const r = resolveLimits({ noLimits: false, [key]: value }, s)
    expect(Either.isLeft(r)).toBe(true)
    if (Either.isLeft(r)) expect(r.left.message).toContain(key === "pidsLimit" ? "--pids-limit" : `--${key}`)
  })
  test("--no-limits with a limit flag is refused", () => {
    const r = resolveLimits({ noLimits: true, memory: "1g", cpus: "1" }, s)
    expect(Either.isLeft(r) && r.left.message.includes("--no-limits cannot be combined with --memory, --cpus")).toBe(true)
  })
  test("--no-limits alone disables all", () =>
    expect(resolveLimits({ noLimits: true }, s)).toEqual(Either.right({ enabled: false, memory: null, cpus: null, pidsLimit: null })))
})

describe("env pairs", () => {
  test("KEY=VALUE accepted", () => expect(Either.isRight(validateEnvPairs(["A=1", "B_2=x=y", "EMPTY="]))).toBe(true))
  test.each(["NOEQUALS", "=x", "1A=2", "A B=1"])("%p refused", (p) => expect(Either.isLeft(validateEnvPairs([p]))).toBe(true))
  test("the API key is refused as -e", () => {
    const r = validateEnvPairs(["ANTHROPIC_API_KEY=sk"])
    expect(Either.isLeft(r) && r.left.message.includes("docker inspect")).toBe(true)
  })
})

const request = sampleShape
const identity = { role: "worker" as const, name: "hal9000-worker-s1", slot: "abc123", slotDir: "/h/pool/slots/abc123", session: "s1", version: "0.1.0" }
const workerSpec = (shape: WorkerShape) => specOf(shape, identity)

describe("worker spec", () => {
  test("hardened by default", () => {
    const b = workerSpec(request()).createBody as any
    expect(b.User).toBe("1000:1000")
    expect(b.HostConfig.CapDrop).toEqual(["ALL"])
    expect(b.HostConfig.CapAdd).toBeUndefined()
    expect(b.HostConfig.SecurityOpt).toEqual(["no-new-privileges"])
    expect(b.HostConfig.Memory).toBe(4 * 1024 ** 3)
    expect(b.HostConfig.MemorySwap).toBe(4 * 1024 ** 3)
    expect(b.HostConfig.NanoCpus).toBe(2e9)
    expect(b.HostConfig.PidsLimit).toBe(100)
    expect(b.HostConfig.NetworkMode).toBe("container:hal9000-parent")
    const volumeLabels = { "io.hal9000.home": "abcabcabcabc", "io.hal9000.instance": "hal9000", "io.hal9000.managed": "true", "io.hal9000.role": "volume", "io.hal9000.version": "0.1.0" }
    expect(b.HostConfig.Mounts).toEqual([
      { Type: "bind", Source: "/srv/app", Target: "/workspace", ReadOnly: false },
      { Type: "bind", Source: "/h/pool/slots/abc123", Target: "/run/claudy", ReadOnly: true },
      // the shared memory: the memory bank read-write, the plugins and the host's claudy read-only
      { Type: "volume", Source: "hal9000-memorybank", Target: "/data/membank", ReadOnly: false, VolumeOptions: { NoCopy: true, Labels: volumeLabels } },
      { Type: "volume", Source: "hal9000-plugins", Target: "/data/plugins", ReadOnly: true, VolumeOptions: { NoCopy: true, Labels: volumeLabels } },
      { Type: "bind", Source: "/usr/local/bin/claudy-host", Target: "/usr/local/bin/claudy", ReadOnly: true },
      { Type: "volume", Source: "hal9000-claude-home", Target: "/home/claude/.claude", ReadOnly: false }
    ])
    expect(b.Env).toEqual(
      expect.arrayContaining([
        "WORKSPACE=/workspace",
        "MEMORY_BANK_ROOT=/data/membank",
        "CLAUDE_CONFIG_DIR=/home/claude/.claude",
        "CLAUDE_HOME=/home/claude/.claude",
        "HAL9000_EMBEDDING=hash"
      ])
    )
    expect(JSON.stringify(b)).not.toContain("docker.sock")
    expect(b.Env).toContain("ANTHROPIC_API_KEY_FILE=/run/claudy/anthropic_api_key")
    expect(b.Env).toContain("CLAUDY_SLOT=/run/claudy")
    expect(b.Env).toContain("CHROMADB_URL=http://localhost:8000")
    expect(b.Env.some((e: string) => e.startsWith("ANTHROPIC_API_KEY="))).toBe(false)
    expect(b.Labels[LABEL.session]).toBe("s1")
    expect(b.Labels[LABEL.role]).toBe("worker")
    expect(b.Labels[LABEL.project]).toBe("/srv/app")
    expect(b.Labels[LABEL.spec]).toMatch(/^[0-9a-f]{16}$/)
    expect(b.Labels[LABEL.slot]).toBe("abc123")
    // the command arrives through the slot, so cold and warm workers have the same config
    expect(b.Cmd).toBeUndefined()
  })
  test("the worker runs as the project's owner, never as root", () => {
    expect(workerUser({ uid: 1234, gid: 99 })).toEqual({ uid: 1234, gid: 99 })
    expect(workerUser({ uid: 0, gid: 0 })).toEqual({ uid: 1000, gid: 1000 })
    const other = workerSpec(request({ user: { uid: 1234, gid: 99 } })).createBody as any
    expect(other.User).toBe("1234:99")
    expect(other.HostConfig.Tmpfs).toEqual({ "/home/claude": "uid=1234,gid=99,mode=0700" })
    expect((workerSpec(request()).createBody as any).HostConfig.Tmpfs).toBeUndefined()
  })
  test("--no-limits sets none", () => {
    const b = workerSpec(request({ limits: { enabled: false, memory: null, cpus: null, pidsLimit: null } })).createBody as any
    expect(b.HostConfig.Memory).toBeUndefined()
    expect(b.HostConfig.NanoCpus).toBeUndefined()
    expect(b.HostConfig.PidsLimit).toBeUndefined()
    expect(JSON.parse(b.Labels[LABEL.limits]).enabled).toBe(false)
  })
  test("without --via-parent: own network, no ChromaDB env", () => {
    const b = workerSpec(request({ viaParent: false })).createBody as any
    expect(b.HostConfig.NetworkMode).toBe("bridge")
    expect(b.Env.some((e: string) => e.startsWith("CHROMADB_"))).toBe(false)
  })
  test("a warm worker differs from a cold one only in role, name and session label", () => {
    const cold = specOf(request(), identity).createBody as any
    const warm = specOf(request(), { ...identity, role: "warm", name: "hal9000-warm-abc123", session: undefined }).createBody as any
    const strip = (b: any) => ({ ...b, Labels: { ...b.Labels, [LABEL.role]: "", [LABEL.session]: "" } })
    expect(strip(warm)).toEqual(strip(cold))
    expect(warm.Labels[LABEL.role]).toBe("warm")
  })
  test("without a TTY the session gets EOF with claudy's stdin", () => {
    expect((workerSpec(request({ tty: false })).createBody as any).StdinOnce).toBe(true)
    expect((workerSpec(request()).createBody as any).StdinOnce).toBe(false)
  })
  test("a via-parent worker records the parent run it joins, and the fingerprint covers it", () => {
    const b = workerSpec(request()).createBody as any
    expect(b.Labels[LABEL.parentId]).toBe("p1")
    expect(b.Labels[LABEL.parentStarted]).toBe("2026-12-02T05:00:00Z")
    expect(workerFingerprint(request({ parent: { id: "p1", startedAt: "2026-12-02T06:00:00Z" } }))).not.toBe(workerFingerprint(request()))
    expect(workerFingerprint(request({ parent: { id: "p2", startedAt: "2026-12-02T05:00:00Z" } }))).not.toBe(workerFingerprint(request()))
    const own = workerSpec(request({ viaParent: false, parent: null })).createBody as any
    expect(own.Labels[LABEL.parentId]).toBeUndefined()
  })
  test("the fingerprint is the shape: project, limits, tty, user, image", () => {
    const a = workerFingerprint(request())
    expect(workerFingerprint(request())).toBe(a)
    expect(workerFingerprint(request({ tty: false }))).not.toBe(a)
    expect(workerFingerprint(request({ user: { uid: 5, gid: 5 } }))).not.toBe(a)
    expect(workerFingerprint(request({ projectDir: "/srv/other" }))).not.toBe(a)
    expect(workerFingerprint(request({ limits: { enabled: false, memory: null, cpus: null, pidsLimit: null } }))).not.toBe(a)
    expect(workerFingerprint(request({ image: "img:2" }))).not.toBe(a)
    expect(workerFingerprint(request({ viaParent: false }))).not.toBe(a)
    expect(workerFingerprint(request({ chromadbPort: 8001 }))).not.toBe(a)
    // the memory mounts and the embedding: a warm worker without them (or with another) is not reused
    expect(workerFingerprint(request({ claudyBinary: null }))).not.toBe(a)
    expect(workerFingerprint(request({ claudyBinary: "/opt/other/claudy" }))).not.toBe(a)
    expect(workerFingerprint(request({ embedding: "ollama:nomic-embed-text@http://10.0.0.2:11434" }))).not.toBe(a)
    // the Claude home is the instance's: another instance's warm worker never serves this one
    expect(workerFingerprint(request({ owner: { instance: "other", home: "abcabcabcabc" } }))).not.toBe(a)
  })
})

const container = (state: Partial<ContainerInspect["State"]>, labels: Record<string, string> = {}): ContainerInspect => ({
  Id: "c1",
  Name: "/hal9000-worker-s1",
  Image: "sha256:1",
  Created: "2026-01-26T12:00:00Z",
  State: { Status: "exited", Running: false, ExitCode: 0, ...state },
  Config: {
    Image: "img:1",
    Labels: {
      [LABEL.session]: "s1",
      [LABEL.project]: "/srv/app",
      [LABEL.instance]: "hal9000",
      [LABEL.parent]: "hal9000-parent",
      [LABEL.limits]: JSON.stringify({ enabled: true, memory: "4g", cpus: "2", pids_limit: "100" }),
      ...labels
    }
  },
  HostConfig: { NetworkMode: "container:abc" }
})

describe("session status and records", () => {
  const none = { oomEvent: false, pidsMaxHits: undefined }
  test("running / exited / created", () => {
    expect(statusOf(container({ Running: true, Status: "running" }), none)).toBe("running")
    expect(statusOf(container({ ExitCode: 3 }), none)).toBe("exited")
    expect(statusOf(container({ Status: "created" }), none)).toBe("created")
  })
  test("oom-killed from the state flag or from an engine event, not from exit code 137 alone", () => {
    expect(statusOf(container({ ExitCode: 137 }), none)).toBe("exited")
    expect(statusOf(container({ ExitCode: 137, OOMKilled: true }), none)).toBe("oom-killed")
    expect(statusOf(container({ ExitCode: 137 }), { oomEvent: true, pidsMaxHits: undefined })).toBe("oom-killed")
  })
  test("pids-limit-reached from the cgroup counter, and it sticks once seen", () => {
    expect(statusOf(container({ Running: true }), { oomEvent: false, pidsMaxHits: 3 })).toBe("pids-limit-reached")
    expect(statusOf(container({ Running: true }), { oomEvent: false, pidsMaxHits: 0 })).toBe("running")
    expect(statusOf(container({ ExitCode: 0 }), none, "pids-limit-reached")).toBe("pids-limit-reached")
  })
  test("pids.events parsing", () => {
    expect(pidsMaxHits("max 7\n")).toBe(7)
    expect(pidsMaxHits("")).toBeUndefined()
  })
  test("a cold spawn's record from the container as it created it is the one the engine's inspect gives", () => {
    for (const shape of [request(), request({ viaParent: false, parent: null })]) {
      const spec = workerSpec(shape)
      const at = "2026-12-02T10:00:00.000Z"
      // what the engine answers for it: `container:<parent id>` for the parent's network, the name with a slash
      const network = spec.createBody.HostConfig.NetworkMode
      const inspected = {
        Id: "c0ffee",
        Name: `/${spec.name}`,
        Image: "sha256:1",
        Created: at,
        State: { Status: "running", Running: true, ExitCode: 0 },
        Config: { Image: spec.createBody.Image, Labels: spec.createBody.Labels, Env: [], Cmd: [] },
        HostConfig: { NetworkMode: network.startsWith("container:") ? "container:0123abcd" : network }
      } as unknown as ContainerInspect
      const now = "2026-12-02T10:00:01.000Z"
      expect(recordFromContainer(createdAs("c0ffee", spec, at), "running", now, "s1")).toEqual(recordFromContainer(inspected, "running", now, "s1"))
    }
  })
  test("a record rebuilt from labels has exactly the guide's fields plus ours, and validates", () => {
    const r = recordFromContainer(container({ ExitCode: 2 }), "exited", "2026-01-26T12:01:00.000Z")
    expect(r).toMatchObject({
      name: "s1",
      image: "img:1",
      parent: "hal9000-parent",
      project_dir: "/srv/app",
      created_at: "2026-01-26T12:00:00.000Z",
      resource_limits: { enabled: true, memory: "4g", cpus: "2", pids_limit: "100" },
      network_mode: "container:hal9000-parent",
      status: "exited",
      exit_code: 2
    })
    expect(Either.isRight(decodeRecord(JSON.parse(JSON.stringify(r))))).toBe(true)
    expect(Either.isLeft(decodeRecord({ name: "x" }))).toBe(true)
  })
})

describe("argv", () => {
  test("splits at the first --", () => {
    expect(splitArgv(["bun", "claudy", "--via-parent", ".", "--", "sh", "-c", "echo --"])).toEqual({
      cli: ["bun", "claudy", "--via-parent", "."],
      command: ["sh", "-c", "echo --"]
    })
    expect(splitArgv(["a", "b"])).toEqual({ cli: ["a", "b"], command: [] })
  })
})

describe("the Claude home of a uid", () => {
  test("the instance's volume goes to the first uid; another uid gets its own, with its own marker", () => {
    expect(claudeHomeFor("hal9000", undefined, 1000)).toEqual({ volume: "hal9000-claude-home", markerUid: undefined })
    expect(claudeHomeFor("hal9000", 1000, 1000)).toEqual({ volume: "hal9000-claude-home", markerUid: undefined })
    expect(claudeHomeFor("hal9000", 1001, 1001)).toEqual({ volume: "hal9000-claude-home", markerUid: undefined })
    expect(claudeHomeFor("hal9000", 1000, 4242)).toEqual({ volume: "hal9000-claude-home-4242", markerUid: 4242 })
    expect(markerFile("/h", 4242)).toBe("/h/claude-home-4242.owner")
    expect(markerFile("/h")).toBe("/h/claude-home.owner")
  })
  test("a marker's uid is read back; anything else is no owner", () => {
    expect(markerUid(ownerMarker("2026-12-02T05:20:24Z", { uid: 4242, gid: 42 }))).toBe(4242)
    expect(markerUid(ownerMarker("", { uid: 0, gid: 0 }))).toBe(0)
    expect(markerUid("")).toBeUndefined()
    expect(markerUid("garbage")).toBeUndefined()
    expect(["claude-home.owner", "claude-home-4242.owner", "claude-home-x.owner", "settings.json"].filter(isMarkerFile)).toEqual([
      "claude-home.owner",
      "claude-home-4242.owner"
    ])
  })
})
