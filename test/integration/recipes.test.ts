/**
 * The guide's own recipes on a running parent (settings kept by `daemon start`), warm workers that belong to one run of
 * the parent, the supervisor's pool loop that `pool stop` leaves alone, and a health server that cannot bind.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { createServer, type Server } from "node:net"
import { CLAUDY, freePort, inspect, run, sandboxWithParent, startSupervisor, tracked, waitFor } from "../support/harness.ts"

const t = tracked()
const project = () => t.tempDir("claudy-recipes-project-", 1000)
afterAll(t.cleanup)

const parentId = async (instance: string) => (await inspect(`${instance}-parent`)).Id as string

describe("the guide's recipes on a running parent", () => {
  test("Basic, High-Performance Workers and Warm Worker Pool: exit 0, the same parent, the new defaults in effect", async () => {
    const b = await sandboxWithParent(t, { CHECK_INTERVAL: "1" })
    const id = await parentId(b.instance)

    const basic = await b.claudy(["daemon", "start"])
    expect(basic.code).toBe(0)

    const perf = await b.claudy(["daemon", "start"], { WORKER_MEMORY: "8g", WORKER_CPUS: "4", WORKER_PIDS_LIMIT: "200" })
    expect(perf.code).toBe(0)
    expect(perf.stdout).toContain("Kept for later commands: WORKER_MEMORY=8g WORKER_CPUS=4 WORKER_PIDS_LIMIT=200")
    const config = JSON.parse((await b.claudy(["config", "--json"])).stdout)
    expect(config.WORKER_MEMORY).toEqual({ value: "8g", source: "kept" })
    expect(config.WORKER_PIDS_LIMIT).toEqual({ value: "200", source: "kept" })
    // A later spawn uses them; the environment still wins over what was kept (4 cpus exceed this 2-core host).
    const p = project()
    const spawn = await b.claudy(["--via-parent", "-d", "--name", "perf", p, "--", "sleep", "300"], { WORKER_CPUS: "1" })
    expect(spawn.code).toBe(0)
    const hc = (await inspect(`${b.instance}-worker-perf`)).HostConfig
    expect(hc.Memory).toBe(8 * 1024 ** 3)
    expect(hc.PidsLimit).toBe(200)
    expect(hc.NanoCpus).toBe(1e9)

    const pool = await b.claudy(["daemon", "start"], { ENABLE_POOL_MANAGER: "true", MIN_WARM_WORKERS: "3", WORKER_CPUS: "1" })
    expect(pool.code).toBe(0)
    expect(pool.stdout).toContain("Pool manager started")
    expect(await parentId(b.instance)).toBe(id) // the parent untouched by all three
    // `pool status` from a shell without those variables shows the running manager's configuration
    const status = JSON.parse((await b.claudy(["pool", "status", "--json"])).stdout)
    expect(status.config.source).toBe("running manager")
    expect(status.config.min_warm_workers).toBe(3)
    expect(status.config.worker_memory).toBe("8g")
    expect(status.manager.kind).toBe("pool run")

    // New pool settings given to `daemon start` restart the detached manager with them.
    const more = await b.claudy(["daemon", "start"], { MIN_WARM_WORKERS: "1", WORKER_CPUS: "1" })
    expect(more.stdout).toContain("Pool manager restarted with the new settings")
    expect(JSON.parse((await b.claudy(["pool", "status", "--json"])).stdout).config.min_warm_workers).toBe(1)
    expect((await b.claudy(["pool", "stop"])).code).toBe(0)
  })

  test("pool start --min-warm … reaches the detached manager, and so does --set", async () => {
    const b = await sandboxWithParent(t)
    const r = await b.claudy(["pool", "start", "--min-warm", "1", "--max-warm", "4", "--idle-timeout", "90", "--check-interval", "2", "--set", "WORKER_PIDS_LIMIT=150"])
    expect(r.code).toBe(0)
    const status = JSON.parse((await b.claudy(["pool", "status", "--json"])).stdout)
    expect(status.config).toMatchObject({ source: "running manager", min_warm_workers: 1, max_warm_workers: 4, idle_timeout: 90, check_interval: 2, worker_pids_limit: 150 })
    const text = (await b.claudy(["pool", "status"])).stdout
    expect(text).toContain("MIN 1, MAX 4), IDLE_TIMEOUT 90s, CHECK_INTERVAL 2s (running manager)")
    expect(text).toContain("150 pids")
    expect((await b.claudy(["pool", "stop"])).code).toBe(0)
  })
})

describe("warm workers belong to one run of the parent", () => {
  const heartbeatFrom = async (b: Awaited<ReturnType<typeof sandboxWithParent>>, p: string, name: string) => {
    const r = await b.claudy(["--via-parent", "-d", "--name", name, p, "--", "sh", "-c", `curl -sf http://localhost:${b.port}/api/v2/heartbeat && echo REACHED`])
    expect(r.code).toBe(0)
    return waitFor(`session ${name} to exit`, async () => {
      const s = JSON.parse((await b.claudy(["sessions", "inspect", name, "--json"])).stdout)
      return s.status === "exited" ? { code: s.exit_code, logs: (await b.claudy(["sessions", "logs", name])).stdout } : undefined
    })
  }

  test("warm pool → daemon restart → a spawn reaches ChromaDB; the same after backup; stale warm workers are never claimed", async () => {
    const b = await sandboxWithParent(t)
    const p = project()
    const warmIds = async () =>
      (await run(["docker", "ps", "-aq", "--no-trunc", "--filter", `label=io.hal9000.instance=${b.instance}`, "--filter", "label=io.hal9000.role=warm"])).stdout
        .split("\n")
        .filter(Boolean)

    expect((await b.claudy(["pool", "warm", p])).code).toBe(0)
    const [staleId] = await warmIds()
    expect(staleId).toBeDefined()
    expect((await b.claudy(["daemon", "restart"])).code).toBe(0)
    const afterRestart = await heartbeatFrom(b, p, "r1")
    expect(afterRestart.logs).toContain("REACHED")
    expect(afterRestart.code).toBe(0)
    expect((await inspect(`${b.instance}-worker-r1`)).Id).not.toBe(staleId)

    // a manager pass replaces the stale warm worker with one of the current parent, which then serves a spawn
    expect((await b.claudy(["pool", "warm"])).code).toBe(0)
    const fresh = (await warmIds()).filter((id) => id !== staleId)
    expect(await warmIds()).not.toContain(staleId)
    expect(fresh.length).toBeGreaterThan(0)

    const dest = t.tempDir("claudy-recipes-backup-")
    expect((await b.claudy(["backup", "--dest", dest])).code).toBe(0)
    const afterBackup = await heartbeatFrom(b, p, "r2")
    expect(afterBackup.logs).toContain("REACHED")
    expect(afterBackup.code).toBe(0)
    expect(fresh).not.toContain((await inspect(`${b.instance}-worker-r2`)).Id)

    // warm-served and cold sessions alike are counted by daemon status
    const served = await b.claudy(["pool", "warm"])
    expect(served.code).toBe(0)
    expect((await b.claudy(["--via-parent", "-d", "--name", "w3", p, "--", "sleep", "300"])).code).toBe(0)
    const st = JSON.parse((await b.claudy(["daemon", "status", "--json"])).stdout)
    expect(st.workers.viaParentSessions).toContain("w3")
    const stop = await b.claudy(["daemon", "stop"])
    expect(stop.code).toBe(0)
    expect(stop.stderr).toContain("via-parent session(s) lose their network: w3")
  })
})

describe("the supervisor's own pool loop and health server", () => {
  test("pool stop and reset leave daemon run running, and say so", async () => {
    const { b, proc } = await startSupervisor(t, { ENABLE_POOL_MANAGER: "true", CHECK_INTERVAL: "1" })
    try {
      await waitFor("the pool loop", async () => (JSON.parse((await b.claudy(["pool", "status", "--json"])).stdout).manager.kind === "daemon run" ? true : undefined))
      const stop = await b.claudy(["pool", "stop"])
      expect(stop.code).toBe(7)
      expect(stop.stderr).toContain(`The pool loop runs inside \`claudy daemon run\` (pid ${proc.pid})`)
      const reset = await b.claudy(["reset"])
      expect(reset.code).toBe(0)
      expect(reset.stderr).toContain(`claudy daemon run (pid ${proc.pid}) keeps running`)
      expect(proc.exitCode).toBeNull()
      expect(proc.killed).toBe(false)
    } finally {
      proc.kill("SIGTERM")
      expect(await proc.exited).toBe(0)
    }
  })

  test("a health address that is taken fails daemon run with the address and its holder, before anything starts", async () => {
    const port = await freePort()
    const holder: Server = createServer()
    await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", resolve))
    try {
      const b = await t.box({ HAL9000_HTTP_ADDR: `127.0.0.1:${port}` })
      const r = await run([CLAUDY, "daemon", "run"], b.env)
      expect(r.code).toBe(7)
      expect(r.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use by process`)
      expect(r.stderr).toContain(`(pid ${process.pid}`)
      expect(r.stderr).toContain("HAL9000_HTTP_ADDR=")
      expect(await inspect(`${b.instance}-parent`)).toBeUndefined()
    } finally {
      holder.close()
    }
  })
})
