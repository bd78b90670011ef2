/** The warm pool and its manager on the real engine: MIN, scale, cleanup, reap, replace, claims, crashes. */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { processAlive } from "../../src/state/lockFile.ts"
import { docker, inspect, type Sandbox, sandboxWithParent, tracked, waitFor } from "../support/harness.ts"

const INTERVAL = 1
const t = tracked()
let b: Sandbox
let p1: string

beforeAll(async () => {
  b = await sandboxWithParent(t, { CHECK_INTERVAL: String(INTERVAL), MIN_WARM_WORKERS: "2", MAX_WARM_WORKERS: "5", IDLE_TIMEOUT: "300" })
  p1 = t.tempDir("claudy-pool-project-", 1000)
})
afterEach(async () => {
  await b.claudy(["pool", "stop"])
  await b.claudy(["pool", "cleanup"])
  rmSync(join(b.home, "pool", "target.json"), { force: true })
  rmSync(join(b.home, "pool", "projects.json"), { force: true })
  rmSync(join(b.home, "pool", "spawns.log"), { force: true })
  for (const s of JSON.parse((await b.claudy(["sessions", "list", "--json"])).stdout)) await b.claudy(["sessions", "rm", "--force", s.name])
})
afterAll(t.cleanup)

const label = (role?: string) => [
  "--filter",
  `label=io.hal9000.instance=${b.instance}`,
  ...(role ? ["--filter", `label=io.hal9000.role=${role}`] : [])
]
const ids = async (role?: string, all = true) =>
  (await docker("ps", ...(all ? ["-a"] : []), "-q", "--no-trunc", ...label(role))).stdout.split("\n").filter(Boolean)
const status = async () => JSON.parse((await b.claudy(["pool", "status", "--json"])).stdout)
/** Deadlines are generous: how fast the engine creates workers is the benchmarks' business, not the tests'. */
const waitIdle = (n: number, ms = 60_000) =>
  waitFor(`${n} idle warm workers`, async () => {
    const s = await status()
    return s.workers.idle === n && s.workers.warm === n ? s : undefined
  }, ms)
const slots = () => {
  try {
    return readdirSync(join(b.home, "pool", "slots"))
  } catch {
    return []
  }
}

describe("pool manager", () => {
  test("start writes the pid file, reaches MIN within two intervals, refuses a second start, stops cleanly", async () => {
    expect((await b.claudy(["pool", "warm", p1])).stdout).toContain("Created 1 warm worker")
    // A long interval makes "within two intervals" a count of passes, not a race with the clock: MIN is reached by
    // the manager's first or second pass.
    const started = await b.claudy(["pool", "start"], { CHECK_INTERVAL: "30" })
    expect(started.code).toBe(0)
    expect(started.stdout).toMatch(/Pool manager started \(pid \d+\)/)
    const pid = Number(readFileSync(join(b.home, "pool", "pool-manager.pid"), "utf8"))
    expect((await waitIdle(2, 2 * 30_000)).manager.loops).toBeLessThanOrEqual(2)
    const again = await b.claudy(["pool", "start"])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain(`already running (pid ${pid})`)
    const s = await status()
    expect(s.manager).toMatchObject({ running: true, pid })
    expect(s.specs).toHaveLength(1)
    expect(s.specs[0]).toMatchObject({ project: p1, idle: 2, claimed: 0 })
    expect(readFileSync(join(b.home, "logs", "pool-manager.log"), "utf8")).toContain("pool manager started")

    const stopped = await b.claudy(["pool", "stop"])
    expect(stopped.stdout).toContain(`Pool manager stopped (pid ${pid})`)
    expect(existsSync(join(b.home, "pool", "pool-manager.pid"))).toBe(false)
    expect(processAlive(pid)).toBe(false)
    // warm workers outlive the manager
    expect((await status()).workers.idle).toBe(2)
  })

  test("a stale pid file is detected and replaced", async () => {
    writeFileSync(join(b.home, "pool", "pool-manager.pid"), "999999\n")
    const s = await status()
    expect(s.manager.running).toBe(false)
    const started = await b.claudy(["pool", "start"])
    expect(started.stdout).toContain("Pool manager started")
    expect(Number(readFileSync(join(b.home, "pool", "pool-manager.pid"), "utf8"))).not.toBe(999999)
  })

  test("scale up and down: persisted, read by the running manager; down acts at once", async () => {
    await b.claudy(["pool", "warm", p1])
    await b.claudy(["pool", "start"])
    expect((await b.claudy(["pool", "scale", "4"])).code).toBe(0)
    expect(JSON.parse(readFileSync(join(b.home, "pool", "target.json"), "utf8")).target).toBe(4)
    await waitIdle(4)
    const down = await b.claudy(["pool", "scale", "1"])
    expect(down.stdout).toContain("removed 3 idle warm worker(s)")
    expect((await status()).workers.idle).toBe(1)
    expect((await status()).config.target).toBe(1)
    const bad = await b.claudy(["pool", "scale", "9"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("outside 0..MAX_WARM_WORKERS (5)")
  })

  test("cleanup removes idle warm workers now and never a claimed one", async () => {
    await b.claudy(["pool", "warm", p1, p1, p1])
    const spawned = await b.claudy(["--via-parent", "-d", "--name", "keep", p1, "--", "sleep", "300"])
    expect(spawned.code).toBe(0)
    const r = await b.claudy(["pool", "cleanup"])
    expect(r.stdout).toContain("Removed 2 idle warm worker(s)")
    expect((await status()).workers).toMatchObject({ idle: 0 })
    expect((await inspect(`${b.instance}-worker-keep`)).State.Running).toBe(true)
  })

  test("warm workers idle past IDLE_TIMEOUT are reaped down to the target", async () => {
    await b.claudy(["pool", "warm", p1, p1, p1])
    expect((await status()).workers.idle).toBe(3)
    await b.claudy(["pool", "scale", "3"]) // keep all three while the timeout is long
    await b.claudy(["pool", "start"], { IDLE_TIMEOUT: "5", MIN_WARM_WORKERS: "1" })
    rmSync(join(b.home, "pool", "target.json"))
    await waitIdle(1)
  })

  test("a warm worker killed behind the manager's back is replaced", async () => {
    await b.claudy(["pool", "warm", p1, p1])
    await b.claudy(["pool", "start"])
    const before = await ids("warm")
    expect(before).toHaveLength(2)
    await docker("kill", before[0]!)
    await waitFor("the killed worker to be replaced", async () => {
      const now = await ids("warm")
      return now.length === 2 && !now.includes(before[0]!) ? now : undefined
    })
  })
})

describe("claims", () => {
  test("a warm-claimed session and a cold one of the same request are identical in inspect but for names and ids", async () => {
    await b.claudy(["pool", "warm", p1])
    const cmd = ["sh", "-c", `echo "quoted 'arg' $HAL9000_SESSION"; sleep 300`]
    const warm = await b.claudy(["--via-parent", "-d", "--name", "fromwarm", p1, "--", ...cmd])
    const cold = await b.claudy(["--via-parent", "-d", "--name", "fromcold", p1, "--", ...cmd])
    expect(warm.code).toBe(0)
    expect(cold.code).toBe(0)
    const served = readFileSync(join(b.home, "pool", "spawns.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(served.map((s: any) => [s.session, s.served])).toEqual([["fromwarm", "warm"], ["fromcold", "cold"]])
    const w = await inspect(`${b.instance}-worker-fromwarm`)
    const c = await inspect(`${b.instance}-worker-fromcold`)
    const comparable = (x: any) => ({
      Image: x.Config.Image,
      User: x.Config.User,
      Env: x.Config.Env,
      Cmd: x.Config.Cmd,
      Entrypoint: x.Config.Entrypoint,
      WorkingDir: x.Config.WorkingDir,
      Tty: x.Config.Tty,
      OpenStdin: x.Config.OpenStdin,
      StdinOnce: x.Config.StdinOnce,
      Labels: Object.fromEntries(Object.entries(x.Config.Labels).filter(([k]) => !["io.hal9000.role", "io.hal9000.session", "io.hal9000.slot"].includes(k))),
      HostConfig: { ...x.HostConfig, Mounts: undefined },
      // the engine lists mounts in no fixed order
      Mounts: x.Mounts.map((m: any) => [m.Type, m.Destination, m.RW, m.Destination === "/workspace" ? m.Source : "slot"]).sort(
        (a: Array<string>, b: Array<string>) => a[1]!.localeCompare(b[1]!)
      )
    })
    expect(comparable(w)).toEqual(comparable(c))
    for (const n of ["fromwarm", "fromcold"]) {
      await waitFor(`${n} output`, async () => ((await b.claudy(["sessions", "logs", n])).stdout.includes(`quoted 'arg' ${n}`) ? true : undefined))
    }
  })

  test("20 concurrent spawns against 5 warm workers: 20 distinct sessions, no worker claimed twice, no orphans", async () => {
    await b.claudy(["pool", "warm", p1, p1, p1, p1, p1])
    expect((await status()).workers.idle).toBe(5)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => b.claudy(["--via-parent", "-d", "--name", `c${i}`, p1, "--", "sleep", "300"]))
    )
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0))
    const served = readFileSync(join(b.home, "pool", "spawns.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(served).toHaveLength(20)
    expect(served.filter((s: any) => s.served === "warm")).toHaveLength(5)
    const sessions = JSON.parse((await b.claudy(["sessions", "list", "--json"])).stdout)
    expect(sessions).toHaveLength(20)
    expect(new Set(sessions.map((s: any) => s.container_id)).size).toBe(20)
    expect(sessions.every((s: any) => s.status === "running")).toBe(true)
    // every container is a session; every slot has its container; no idle worker is left over
    const all = await ids()
    expect(all).toHaveLength(21) // 20 sessions + the parent
    expect(slots()).toHaveLength(20)
    expect((await status()).workers.idle).toBe(0)
    const claims = readdirSync(join(b.home, "pool", "claims"))
    expect(new Set(claims.map((c) => JSON.parse(readFileSync(join(b.home, "pool", "claims", c), "utf8")).by)).size).toBe(5)
  })
})

describe("names under concurrency", () => {
  test("two concurrent spawns of one --name with warm workers free: exactly one wins", async () => {
    await b.claudy(["pool", "warm", p1, p1])
    const [x, y] = await Promise.all([0, 1].map(() => b.claudy(["--via-parent", "-d", "--name", "twin", p1, "--", "sleep", "300"])))
    expect([x!.code, y!.code].sort()).toEqual([0, 2])
    expect([x!.stderr, y!.stderr].join("")).toContain("Session name 'twin' is taken")
    const sessions = JSON.parse((await b.claudy(["sessions", "list", "--json"])).stdout)
    expect(sessions.filter((s: any) => s.name === "twin")).toHaveLength(1)
    // the loser's warm worker is still free
    expect((await status()).workers.idle).toBe(1)
  })
})

describe("crashes and bad state", () => {
  test("kill -9 of the manager mid-loop: pool start reconciles with no duplicates and no orphans", async () => {
    await b.claudy(["pool", "warm", p1])
    await b.claudy(["pool", "scale", "5"])
    await b.claudy(["pool", "start"])
    const pid = Number(readFileSync(join(b.home, "pool", "pool-manager.pid"), "utf8"))
    // kill it while it is creating workers
    await waitFor("the manager to be creating", async () => ((await ids("warm")).length > 1 ? true : undefined))
    process.kill(pid, "SIGKILL")
    await waitFor("the killed manager to be gone", async () => (processAlive(pid) ? undefined : true))
    const restarted = await b.claudy(["pool", "start"])
    expect(restarted.stdout).toContain("Pool manager started")
    await waitIdle(5)
    // a few more passes change nothing
    const settled = await ids("warm")
    await waitFor("two more manager passes", async () => {
      const s = await status()
      return s.manager.loops >= 3 ? s : undefined
    })
    expect((await ids("warm")).sort()).toEqual(settled.sort())
    const running = await ids("warm", false)
    expect(running.sort()).toEqual(settled.sort())
    // a slot the kill left without its container is removed after its grace period (10 s)
    const labelled = await Promise.all(settled.map(async (id) => (await inspect(id)).Config.Labels["io.hal9000.slot"]))
    await waitFor("orphan slots to be removed", async () =>
      JSON.stringify(slots().sort()) === JSON.stringify(labelled.sort()) ? true : undefined, 60_000)
    expect((await ids("warm")).sort()).toEqual(settled.sort())
  })

  test("stale or corrupt workers/*.json are rebuilt from the labels", async () => {
    await b.claudy(["pool", "warm", p1, p1])
    const dir = join(b.home, "pool", "workers")
    const files = readdirSync(dir)
    expect(files).toHaveLength(2)
    writeFileSync(join(dir, files[0]!), "{corrupt")
    writeFileSync(join(dir, "ghost.json"), JSON.stringify({ name: "ghost" }))
    await b.claudy(["pool", "start"])
    await waitFor("the mirror to be rebuilt", async () => {
      const now = readdirSync(dir).sort()
      return JSON.stringify(now) === JSON.stringify(files.sort()) &&
        now.every((f) => {
          try {
            return JSON.parse(readFileSync(join(dir, f), "utf8")).state === "running"
          } catch {
            return false
          }
        })
        ? true
        : undefined
    })
  })
})
