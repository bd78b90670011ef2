/**
 * Podman as the engine: a private rootful `podman system service` on its own socket (scripts/podman-env), claudy
 * pointed at it with DOCKER_HOST, and the user's path through it — daemon start/status/stop, a via-parent spawn
 * that reaches ChromaDB, a warm claim, sessions list/stop/rm, reset, doctor. The service, its socket and every
 * container and volume the tests create are gone afterwards (the images stay in Podman's store as a cache).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CLAUDY, ROOT, run, type Sandbox, tracked } from "../support/harness.ts"

const dir = mkdtempSync(join(tmpdir(), "claudy-podman-"))
const DOCKER_HOST = `unix://${join(dir, "podman.sock")}`
const podman = (...args: Array<string>) => run(["docker", ...args], { DOCKER_HOST })
const t = tracked()
let b: Sandbox
let project: string

beforeAll(async () => {
  const config = JSON.parse((await run([CLAUDY, "config", "--json"])).stdout)
  const images = [config.PARENT_IMAGE.value, config.WORKER_IMAGE.value]
  const env = await run([join(ROOT, "scripts/podman-env"), "start", dir, ...images])
  if (env.code !== 0) throw new Error(`scripts/podman-env start failed:\n${env.stderr}`)
  b = await t.box({ DOCKER_HOST }, DOCKER_HOST)
  project = t.tempDir("claudy-podman-project-", 1000)
}, 600_000)

afterAll(async () => {
  await t.cleanup()
  const left = await podman("ps", "-aq", "--filter", `label=io.hal9000.instance=${b.instance}`)
  await run([join(ROOT, "scripts/podman-env"), "stop", dir])
  expect(left.stdout).toBe("")
})

const ok = async (args: ReadonlyArray<string>) => {
  const r = await b.claudy(args)
  if (r.code !== 0) throw new Error(`claudy ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`)
  return r
}

describe("claudy on Podman", () => {
  test("doctor names the engine: Podman, its version and API, cgroup version, rootful", async () => {
    const r = await b.claudy(["doctor", "--json"])
    const engine = JSON.parse(r.stdout).checks.find((c: { name: string }) => c.name === "engine")
    expect(engine.level).toBe("ok")
    expect(engine.detail).toMatch(/Podman \d+\.\d+\.\d+, API 1\.\d+, cgroup v[12], rootful/)
    const version = JSON.parse((await podman("version", "--format", "{{json .Server}}")).stdout)
    expect(engine.detail).toContain(`Podman ${version.Version}`)
  })

  test("daemon start, status and stop", async () => {
    const start = await ok(["daemon", "start"])
    expect(start.stdout).toContain(`Parent container '${b.instance}-parent' created`)
    const status = JSON.parse((await ok(["daemon", "status", "--json"])).stdout)
    expect(status).toMatchObject({ state: "running", healthy: true })
    // it runs in Podman, not in the Docker engine
    expect((await podman("inspect", "--format", "{{.State.Running}}", `${b.instance}-parent`)).stdout.trim()).toBe("true")
    expect((await run(["docker", "inspect", `${b.instance}-parent`])).code).not.toBe(0)
    expect((await ok(["daemon", "stop"])).stdout).toContain("stopped")
    expect((await b.claudy(["daemon", "status"])).code).toBe(3)
    await ok(["daemon", "start"])
  })

  test("a via-parent worker reaches ChromaDB at localhost, with its limits enforced", async () => {
    const r = await ok([
      "--via-parent",
      "--memory",
      "256m",
      project,
      "--",
      "sh",
      "-c",
      `curl -fsS http://localhost:${b.port}/api/v2/heartbeat; echo; cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes`
    ])
    const [heartbeat, limit] = r.stdout.trim().split("\n")
    expect(JSON.parse(heartbeat!)).toHaveProperty("nanosecond heartbeat")
    expect(Number(limit)).toBe(256 * 1024 * 1024)
  })

  test("a warm worker is claimed by the next spawn of its project", async () => {
    expect((await ok(["pool", "warm", project])).stdout).toContain("Created 1 warm worker")
    await ok(["--via-parent", "--detach", "--name", "fromwarm", project])
    const served = readFileSync(join(b.home, "pool", "spawns.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(served.at(-1)).toMatchObject({ session: "fromwarm", served: "warm" })
  })

  test("sessions list, stop and rm", async () => {
    const list = JSON.parse((await ok(["sessions", "list", "--json"])).stdout)
    expect(list.find((s: { name: string }) => s.name === "fromwarm")).toMatchObject({ status: "running" })
    expect((await ok(["sessions", "stop", "fromwarm"])).stdout).toContain("Session fromwarm stopped")
    expect((await ok(["sessions", "rm", "fromwarm"])).stdout).toContain("Session fromwarm removed")
    expect((await podman("inspect", `${b.instance}-worker-fromwarm`)).code).not.toBe(0)
  })

  test("reset removes the parent and the workers, keeps the volumes", async () => {
    const r = await ok(["reset"])
    expect(r.stdout).toContain(`${b.instance}-parent`)
    expect((await podman("ps", "-aq", "--filter", `label=io.hal9000.instance=${b.instance}`)).stdout).toBe("")
    const vols = (await podman("volume", "ls", "-q", "--filter", `label=io.hal9000.instance=${b.instance}`)).stdout
    expect(vols.trim().split("\n").sort()).toEqual([`${b.instance}-chromadb`, `${b.instance}-claude-home`, `${b.instance}-memorybank`, `${b.instance}-plugins`])
  })
})
