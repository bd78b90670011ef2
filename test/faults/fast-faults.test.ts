/**
 * Fault injection (the fast part, also in `make test`). Each test names the invariant it checks:
 * no lost session record, no double claim, no orphan container, no touched foreign object, a clear error.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Either } from "effect"
import { decodeRecord } from "../../src/sessions/record.ts"
import { CLAUDY, docker, inspect, run, type Sandbox, sandbox, startSupervisor, tracked, waitFor } from "../support/harness.ts"

const t = tracked()
const box = t.box
const project = () => t.tempDir("claudy-fault-project-", 1000)
afterAll(t.cleanup)

const ids = async (b: Sandbox, role?: string) =>
  (await docker("ps", "-aq", "--no-trunc", "--filter", `label=io.hal9000.instance=${b.instance}`, ...(role ? ["--filter", `label=io.hal9000.role=${role}`] : [])))
    .stdout.split("\n")
    .filter(Boolean)

describe("faults", () => {
  test("kill -9 of the pool manager during claims: no double claim, no orphan, no lost record", async () => {
    const b = await box({ CHECK_INTERVAL: "1", MIN_WARM_WORKERS: "4", MAX_WARM_WORKERS: "5" })
    const p = project()
    expect((await b.claudy(["daemon", "start"])).code).toBe(0)
    await b.claudy(["pool", "warm", p, p, p, p])
    await b.claudy(["pool", "start"])
    const pid = Number(readFileSync(join(b.home, "pool", "pool-manager.pid"), "utf8"))
    let finished = 0
    const spawns = Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        b.claudy(["--via-parent", "-d", "--name", `k${i}`, p, "--", "sleep", "300"]).finally(() => finished++)
      )
    )
    // the kill lands while claims are in flight: a first warm worker is claimed, and spawns are still running
    const claims = join(b.home, "pool", "claims")
    await waitFor("a first claim", async () => (existsSync(claims) && readdirSync(claims).some((n) => !n.startsWith(".")) ? true : undefined), 30_000, 5)
    process.kill(pid, "SIGKILL")
    expect(finished).toBeLessThan(10)
    const results = await spawns
    expect(results.map((r) => r.code)).toEqual(Array(10).fill(0))
    expect((await b.claudy(["pool", "start"])).stdout).toContain("Pool manager started")
    const sessions = await waitFor("10 running sessions", async () => {
      const s = JSON.parse((await b.claudy(["sessions", "list", "--json"])).stdout)
      return s.length === 10 && s.every((x: any) => x.status === "running") ? s : undefined
    })
    expect(new Set(sessions.map((s: any) => s.container_id)).size).toBe(10)
    for (let i = 0; i < 10; i++) {
      expect(Either.isRight(decodeRecord(JSON.parse(readFileSync(join(b.home, "sessions", `k${i}.json`), "utf8"))))).toBe(true)
    }
    // every slot belongs to a container, every container to a session or the idle pool
    await waitFor("slots and containers to agree", async () => {
      const labelled = await Promise.all((await ids(b)).map(async (id) => (await inspect(id))?.Config.Labels["io.hal9000.slot"]))
      const slots = readdirSync(join(b.home, "pool", "slots")).sort()
      return JSON.stringify(slots) === JSON.stringify(labelled.filter(Boolean).sort()) ? true : undefined
    }, 20_000)
    await b.claudy(["pool", "stop"])
  })

  test("docker kill of the parent under via-parent workers: status shows them without network; restart says what it does", async () => {
    const b = await box()
    const p = project()
    expect((await b.claudy(["daemon", "start"])).code).toBe(0)
    expect((await b.claudy(["--via-parent", "-d", "--name", "w1", p, "--", "sleep", "300"])).code).toBe(0)
    expect(JSON.parse((await b.claudy(["daemon", "status", "--json"])).stdout).workers.orphanedNetwork).toBe(0)
    await docker("kill", `${b.instance}-parent`)
    const down = await waitFor("the parent down", async () => {
      const st = JSON.parse((await b.claudy(["daemon", "status", "--json"])).stdout)
      return st.state === "stopped" ? st : undefined
    })
    expect(down.workers.orphanedNetwork).toBe(1)
    // starting the same container again gives it a new namespace: the worker still has none
    expect((await b.claudy(["daemon", "start"])).code).toBe(0)
    const s = JSON.parse((await b.claudy(["daemon", "status", "--json"])).stdout)
    expect(s.healthy).toBe(true)
    expect(s.workers.orphanedNetwork).toBe(1)
    expect(s.workers.running).toBe(1)
    const text = await b.claudy(["daemon", "status"])
    expect(text.stdout).toContain("1 joined an earlier parent and have no network: respawn them")
    const restart = await b.claudy(["daemon", "restart"])
    expect(restart.code).toBe(0)
    expect(restart.stderr).toContain("1 via-parent session(s) joined the previous parent and have lost their network: w1")
    expect((await inspect(`${b.instance}-worker-w1`)).State.Running).toBe(true) // their work is not interrupted
  })

  test("HAL9000_HOME on a full tmpfs: a clear error, nothing created, no truncated JSON", async () => {
    const home = t.tempDir("claudy-fullhome-")
    expect((await run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", home])).code).toBe(0)
    // not tracked: its objects must go before the tmpfs is unmounted
    const b = await sandbox({ HAL9000_HOME: home })
    try {
      const p = project()
      expect((await b.claudy(["daemon", "start"])).code).toBe(0)
      expect((await b.claudy(["--via-parent", "-d", "--name", "before", p, "--", "sleep", "300"])).code).toBe(0)
      // fill the disk
      await run(["sh", "-c", `dd if=/dev/zero of=${home}/filler bs=4k 2>/dev/null; true`])
      const before = await ids(b, "worker")
      const r = await b.claudy(["--via-parent", "-d", "--name", "after", p, "--", "sleep", "300"])
      expect(r.code).not.toBe(0)
      expect(r.stderr).toMatch(/Error: Cannot .*(no space left on device|ENOSPC)/i)
      expect(r.stderr).toContain(`Fix: free space on the disk that holds ${home}/sessions (df -h ${home}/sessions)`)
      expect(await ids(b, "worker")).toEqual(before)
      for (const f of readdirSync(join(home, "sessions")).filter((n) => n.endsWith(".json"))) {
        expect(() => JSON.parse(readFileSync(join(home, "sessions", f), "utf8"))).not.toThrow()
      }
      expect(readdirSync(join(home, "sessions")).filter((n) => n.endsWith(".tmp"))).toEqual([])
      // listing still works on a full disk (records that cannot be updated are reported, not lost)
      const list = await b.claudy(["sessions", "list", "--json"])
      expect(list.stdout).toContain('"before"')
    } finally {
      await b.cleanup() // unmounts the home too
    }
  })

  test("a warm worker free on a full or read-only HAL9000_HOME: the spawn reports the disk's error, nothing is lost or turned cold", async () => {
    const home = t.tempDir("claudy-fullhome-warm-")
    expect((await run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", home])).code).toBe(0)
    const claims = join(home, "pool", "claims")
    // not tracked: its objects must go before the tmpfs is unmounted
    const b = await sandbox({ HAL9000_HOME: home })
    try {
      const p = project()
      expect((await b.claudy(["daemon", "start"])).code).toBe(0)
      expect((await b.claudy(["pool", "warm", p])).stdout).toContain("Created 1 warm worker")
      const [warm] = await ids(b, "warm")
      const spawn = (name: string) => b.claudy(["--via-parent", "-d", "--name", name, p, "--", "sleep", "300"])

      // 1. The disk is full: the spawn fails with ENOSPC and its fix; the warm worker stays free; no cold one.
      await run(["sh", "-c", `dd if=/dev/zero of=${home}/filler bs=4k 2>/dev/null; true`])
      const full = await spawn("full")
      expect(full.code).toBe(1)
      expect(full.stderr).toContain("no space left on device (ENOSPC")
      expect(full.stderr).toContain(`Fix: free space on the disk that holds ${home}/`)
      expect(full.stderr).not.toContain("bug")
      expect(await ids(b, "worker")).toEqual([])
      expect(await ids(b, "warm")).toEqual([warm!])
      expect(existsSync(claims) ? readdirSync(claims) : []).toEqual([]) // no claim, no half-written one
      rmSync(join(home, "filler"))

      // 2. Only the claims are unwritable (read-only): the claim's own error is reported, not a cold start.
      mkdirSync(claims, { recursive: true })
      expect((await run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", claims])).code).toBe(0)
      let ro: Awaited<ReturnType<typeof spawn>>
      try {
        ro = await spawn("readonly")
      } finally {
        await run(["umount", claims])
      }
      expect(ro.code).toBe(1)
      expect(ro.stderr).toContain(`Error: Cannot write the claim ${claims}/`)
      expect(ro.stderr).toContain("read-only file system (EROFS")
      expect(ro.stderr).toContain(`Fix: ${claims} is on a read-only file system: remount it read-write`)
      expect(await ids(b, "worker")).toEqual([])
      expect(await ids(b, "warm")).toEqual([warm!])

      // 3. With room again, the same warm worker serves the next spawn.
      expect((await spawn("after")).code).toBe(0)
      expect((await inspect(`${b.instance}-worker-after`))?.Id).toBe(warm)
    } finally {
      await run(["umount", claims])
      await b.cleanup() // unmounts the home too
    }
  })

  test("SIGTERM to daemon run in the middle of a restart: exits 0, and the next start recovers", async () => {
    const { b, proc: sup } = await startSupervisor(t)
    try {
      await docker("rm", "-f", `${b.instance}-parent`)
      const log = join(b.home, "logs", "supervisor.log")
      await waitFor("a restart to begin", async () => (readFileSync(log, "utf8").includes("restarting the parent") ? true : undefined), 30_000)
      sup.kill("SIGTERM")
      expect(await sup.exited).toBe(0)
      const after = await b.claudy(["daemon", "start"])
      expect(after.code).toBe(0)
      expect((await b.claudy(["daemon", "status"])).code).toBe(0)
      expect((await ids(b, "parent")).length).toBe(1)
    } finally {
      sup.kill("SIGKILL")
      await sup.exited
    }
  })

  test("the parent docker-killed under daemon run: the supervisor acts on the engine's die event (no poll, no restart policy)", async () => {
    // A poll interval of an hour: only the event can bring it back (Docker's restart policy never restarts a killed container).
    const { b, port, proc: sup } = await startSupervisor(t, { HAL9000_WATCHDOG_INTERVAL: "3600" })
    try {
      const log = join(b.home, "logs", "supervisor.log")
      await waitFor("the event stream connected", async () => (readFileSync(log, "utf8").includes("engine events connected") ? true : undefined))
      const before = (await inspect(`${b.instance}-parent`)).State.StartedAt
      await docker("kill", `${b.instance}-parent`)
      const up = (url: string) => fetch(url).then((r) => r.ok).catch(() => false)
      await waitFor("ChromaDB back: ready, and its heartbeat answering", async () =>
        (await up(`http://127.0.0.1:${port}/health/ready`)) && (await up(`http://127.0.0.1:${b.port}/api/v2/heartbeat`)) ? true : undefined, 60_000)
      const text = readFileSync(log, "utf8")
      expect(text).toContain("parent die (engine event): checking the parent now")
      expect(text).toContain("parent restarted; ChromaDB answers")
      expect((await inspect(`${b.instance}-parent`)).State.StartedAt).not.toBe(before)
    } finally {
      sup.kill("SIGTERM")
      await sup.exited
    }
  })

  test("engine socket missing or permission denied: a clear error naming the address, exit 5", async () => {
    const b = await box({ DOCKER_HOST: "unix:///tmp/claudy-no-such-engine.sock" })
    const missing = await b.claudy(["daemon", "status"])
    expect(missing.code).toBe(5)
    expect(missing.stderr).toContain("Cannot connect to the Docker daemon at unix:///tmp/claudy-no-such-engine.sock")
    expect(missing.stderr).toContain("no socket at /tmp/claudy-no-such-engine.sock")
    // as an unprivileged user the root-owned socket is refused
    const home = t.tempDir("claudy-nobody-", 65534)
    const denied = await run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", CLAUDY, "daemon", "status"], {
      HAL9000_HOME: join(home, "h"),
      HAL9000_INSTANCE: b.instance
    })
    expect(denied.code).toBe(5)
    expect(denied.stderr).toContain("Cannot connect to the Docker daemon at unix:///var/run/docker.sock")
    expect(denied.stderr).toContain("permission denied on /var/run/docker.sock")
    expect(denied.stderr).toContain("docker group")
  })

  test("corrupt, empty and foreign files in sessions/ and pool/workers/ are reported or rebuilt, never fatal", async () => {
    const b = await box({ CHECK_INTERVAL: "1" })
    const p = project()
    expect((await b.claudy(["daemon", "start"])).code).toBe(0)
    expect((await b.claudy(["--via-parent", "-d", "--name", "ok", p, "--", "sleep", "300"])).code).toBe(0)
    await b.claudy(["pool", "warm", p])
    mkdirSync(join(b.home, "pool", "workers"), { recursive: true })
    for (const [dir, name, text] of [
      ["sessions", "junk.json", "{{{"],
      ["sessions", "empty.json", ""],
      ["sessions", "alien.json", '{"kind":"something else"}'],
      ["pool/workers", "junk.json", "{{{"],
      ["pool/workers", "alien.json", "[]"]
    ] as const) writeFileSync(join(b.home, dir, name), text)
    const list = await b.claudy(["sessions", "list"])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain("ok")
    const status = await b.claudy(["pool", "status", "--json"])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout).workers.idle).toBe(1)
    await b.claudy(["pool", "start"])
    await waitFor("the mirror rebuilt", async () =>
      existsSync(join(b.home, "pool", "workers", "junk.json")) || existsSync(join(b.home, "pool", "workers", "alien.json")) ? undefined : true
    )
    await b.claudy(["pool", "stop"])
  })
})
