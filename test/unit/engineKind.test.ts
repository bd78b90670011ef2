import { describe, expect, test } from "bun:test"
import { describeEngine, engineKind } from "../../src/docker/engineKind.ts"
import { describeError } from "../../src/cli/report.ts"
import { LimitsNotEnforced } from "../../src/domain/errors.ts"

// /version and /info as Docker 20.10 and Podman 4.3 answer them here (trimmed)
const dockerVersion = { Version: "20.10.24+dfsg1", ApiVersion: "1.41", Components: [{ Name: "Engine", Version: "20.10.24+dfsg1" }] }
const podmanVersion = {
  Version: "4.3.1",
  ApiVersion: "1.41",
  Components: [{ Name: "Podman Engine", Version: "4.3.1" }, { Name: "Conmon", Version: "conmon version 2.1.6" }]
}
const info = { CgroupVersion: "1", CgroupDriver: "cgroupfs", MemoryLimit: true, PidsLimit: true, CpuCfsQuota: true, SecurityOptions: ["name=seccomp,profile=default"] }

describe("engineKind", () => {
  test("names Docker and Podman, the API, the cgroup version and rootful/rootless", () => {
    expect(describeEngine(engineKind(dockerVersion, info))).toBe("Docker 20.10.24+dfsg1, API 1.41, cgroup v1, rootful")
    expect(describeEngine(engineKind(podmanVersion, { ...info, CgroupVersion: "2" }))).toBe("Podman 4.3.1, API 1.41, cgroup v2, rootful")
  })

  test("every limit is enforced on a rootful engine with the controllers", () => {
    expect(engineKind(podmanVersion, info).unenforced).toEqual([])
  })

  test("rootless on cgroup v1 enforces no limit, whatever /info claims", () => {
    const k = engineKind(podmanVersion, { ...info, SecurityOptions: ["name=seccomp,profile=default", "name=rootless"] })
    expect(k.rootless).toBe(true)
    expect(k.unenforced).toEqual(["memory", "cpus", "pids"])
  })

  test("rootless Podman on cgroup v1 as it answers here: Rootless true, limits claimed, none enforced", () => {
    const k = engineKind(podmanVersion, { ...info, Rootless: true })
    expect(describeEngine(k)).toBe("Podman 4.3.1, API 1.41, cgroup v1, rootless")
    expect(k.unenforced).toEqual(["memory", "cpus", "pids"])
  })

  test("rootless on cgroup v2 (delegated controllers) keeps what /info reports", () => {
    const k = engineKind(podmanVersion, { ...info, CgroupVersion: "2", PidsLimit: false, SecurityOptions: ["name=rootless"] })
    expect(k.unenforced).toEqual(["pids"])
  })

  test("the refusal names the engine and the limits, and the fix offers --no-limits (usage exit code)", () => {
    const r = describeError(new LimitsNotEnforced({ engine: "Podman 4.3.1, API 1.41, cgroup v1, rootless", limits: ["memory", "pids"] }))
    expect(r.message).toContain("Podman 4.3.1")
    expect(r.message).toContain("memory, pids limits")
    expect(r.hint).toContain("--no-limits")
    expect(r.exitCode).toBe(2)
  })
})
