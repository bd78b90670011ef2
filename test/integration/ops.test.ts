/** Operations on the real engine: the systemd supervisor, health/metrics, doctor, debug bundle, backup, reset. */
import { afterAll, describe, expect, test } from "bun:test"
import { chownSync, existsSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { chroma, CLAUDY, docker, freePort, inspect, ROOT, run, startSupervisor, tracked, waitFor } from "../support/harness.ts"
import { homeHash, ownerLabels } from "../../src/domain/labels.ts"

const t = tracked()
const box = t.box
const tempDir = (prefix: string) => t.tempDir(prefix)
afterAll(t.cleanup)

const get = async (url: string) => {
  try {
    const r = await fetch(url)
    return { status: r.status, text: await r.text() }
  } catch {
    return undefined
  }
}

describe("daemon run (the systemd supervisor)", () => {
  test("notifies systemd when ChromaDB answers, serves health and metrics, restores a killed parent, exits 0 on SIGTERM leaving sessions", async () => {
    const port = await freePort()
    const b = await box({ HAL9000_HTTP_ADDR: `127.0.0.1:${port}`, HAL9000_WATCHDOG_INTERVAL: "1" })
    const dir = tempDir("claudy-notify-")
    const sock = join(dir, "notify.sock")
    const got = join(dir, "got")
    const listener = Bun.spawn([
      "python3",
      "-c",
      `import socket\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(${JSON.stringify(sock)})\nopen(${JSON.stringify(got)},"wb").write(s.recv(4096))`
    ])
    await waitFor("the notify socket", async () => (existsSync(sock) ? true : undefined))
    const sup = Bun.spawn([CLAUDY, "daemon", "run"], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...b.env, NOTIFY_SOCKET: sock },
      stdout: "pipe",
      stderr: "pipe"
    })
    try {
      const ready = await waitFor("READY=1 from the supervisor", async () => (existsSync(got) && readFileSync(got, "utf8") !== "" ? readFileSync(got, "utf8") : undefined), 60_000)
      expect(ready).toContain("READY=1")
      // READY is sent only once ChromaDB answers
      expect((await fetch(`http://127.0.0.1:${b.port}/api/v2/heartbeat`)).ok).toBe(true)

      const live = await waitFor("/health/live", () => get(`http://127.0.0.1:${port}/health/live`))
      expect(live.status).toBe(200)
      expect(JSON.parse(live.text)).toEqual({ status: "ok" })
      const readyRes = await get(`http://127.0.0.1:${port}/health/ready`)
      expect(readyRes!.status).toBe(200)
      const body = JSON.parse(readyRes!.text)
      expect(body.status).toBe("ready")
      expect(body.components.parent.ready).toBe(true)
      expect(body.components.chromadb.ready).toBe(true)
      expect(body.components.watchdog.circuit).toBe("closed")

      // a session started under the supervisor must survive its stop
      const project = tempDir("claudy-sup-project-")
      chownSync(project, 1000, 1000)
      expect((await b.claudy(["--via-parent", "-d", "--name", "survivor", project, "--", "sleep", "300"])).code).toBe(0)

      // kill the parent behind its back: the watchdog restores it and counts the restart
      await docker("kill", `${b.instance}-parent`)
      const restored = await waitFor("the supervisor to restore the parent", async () => {
        const m = await get(`http://127.0.0.1:${port}/metrics`)
        return m && /claudy_parent_restarts_total [1-9]/.test(m.text) && /claudy_chromadb_up 1/.test(m.text) ? m.text : undefined
      }, 60_000)
      for (const name of [
        "claudy_parent_up 1",
        "claudy_chromadb_heartbeat_seconds",
        'claudy_sessions{state="running"}',
        'claudy_warm_workers{state="idle"}',
        'claudy_spawns_total{served="cold"} 1',
        "claudy_spawn_duration_seconds_bucket",
        "claudy_spawn_duration_seconds_count 1",
        "claudy_restart_circuit_state 0"
      ]) expect(restored).toContain(name)
      expect(readFileSync(join(b.home, "logs", "supervisor.log"), "utf8")).toContain("parent restarted")

      const t0 = Date.now()
      sup.kill("SIGTERM")
      expect(await sup.exited).toBe(0)
      // systemd's default TimeoutStopSec is 90 s: a third of it is a hang, not a slow machine
      expect(Date.now() - t0).toBeLessThan(30_000)
      expect((await inspect(`${b.instance}-worker-survivor`)).State.Running).toBe(true)
      expect((await inspect(`${b.instance}-parent`)).State.Running).toBe(true)
    } finally {
      sup.kill("SIGKILL")
      listener.kill()
      await sup.exited
    }
  })

  test("backup under daemon run: the watchdog leaves the parent alone while the backup holds the maintenance lock", async () => {
    const { b, port, proc: sup } = await startSupervisor(t)
    try {
      const dest = tempDir("claudy-backup-under-sup-")
      const r = await b.claudy(["backup", "--dest", dest])
      expect(r.code).toBe(0)
      const metrics = await get(`http://127.0.0.1:${port}/metrics`)
      expect(metrics!.text).toContain("claudy_parent_restarts_total 0")
      expect(existsSync(join(b.home, "maintenance"))).toBe(false)
    } finally {
      sup.kill("SIGTERM")
      await sup.exited
    }
  })

  test("a HAL9000_HOME belongs to one instance", async () => {
    const b = await box()
    expect((await b.claudy(["daemon", "start"])).code).toBe(0)
    const r = await b.claudy(["daemon", "start"], { HAL9000_INSTANCE: `${b.instance}x` })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`belongs to HAL9000_INSTANCE=${b.instance}`)
  })

  test("the unit file passes systemd-analyze verify", async () => {
    const dir = tempDir("claudy-unit-")
    const unit = readFileSync(join(ROOT, "contrib/systemd/claudy.service"), "utf8").replace("/usr/local/bin/claudy", CLAUDY)
    writeFileSync(join(dir, "claudy.service"), unit)
    const r = await run(["systemd-analyze", "verify", join(dir, "claudy.service")])
    expect(r.stderr).not.toContain("claudy.service:")
    expect(r.code).toBe(0)
    expect(unit).toContain("Type=notify")
    expect(unit).toContain("Restart=on-failure")
  })
})

describe("doctor", () => {
  test("reports every check and exits 0 when nothing fails", async () => {
    const b = await box()
    expect((await b.claudy(["daemon", "start"])).code).toBe(0)
    const r = await b.claudy(["doctor", "--json"])
    expect(r.code).toBe(0)
    const names = JSON.parse(r.stdout).checks.map((c: any) => c.name)
    for (const n of ["engine", "limits", "storage", "disk", "parent image", "worker image", "volume chromadb", "parent", "port", "HAL9000_HOME", "pool manager"]) {
      expect(names).toContain(n)
    }
    const text = await b.claudy(["doctor"])
    expect(text.stdout).toMatch(/ok\s+engine\s+unix:\/\/\/var\/run\/docker.sock: Docker/)
  })
  test("a missing image is a FAIL with the fix, and exits 1", async () => {
    const b = await box({ PARENT_IMAGE: "claudy-test-absent:nope" })
    const r = await b.claudy(["doctor"])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/FAIL\s+parent image\s+claudy-test-absent:nope is not present\s+-> claudy images build parent/)
  })
})

describe("debug-bundle", () => {
  test("archives logs, objects, statuses, redacted config and doctor output, and no secret value", async () => {
    const secret = `sk-ant-secret-${Date.now()}`
    const b = await box({ ANTHROPIC_API_KEY: secret })
    expect((await b.claudy(["daemon", "start"])).code).toBe(0)
    const project = tempDir("claudy-bundle-project-")
    chownSync(project, 1000, 1000)
    expect((await b.claudy(["--via-parent", "-d", project, "--", "sleep", "300"])).code).toBe(0)
    const out = join(tempDir("claudy-bundle-"), "bundle.tar.gz")
    const r = await b.claudy(["debug-bundle", "-o", out])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`Debug bundle: ${out}`)
    const list = (await run(["tar", "tzf", out])).stdout
    for (const f of ["parent.log", "pool-manager.log", "supervisor.log", "containers.json", "volumes.json", "daemon-status.json", "pool-status.json", "config.json", "engine-version.json", "doctor.json"]) {
      expect(list).toContain(`/${f}`)
    }
    const all = (await run(["tar", "xzOf", out])).stdout
    expect(all).not.toContain(secret)
    expect(all).toContain("(set, redacted)")
  })
})

describe("backup and restore", () => {
  test("real ChromaDB data: write, back up, change, restore, read the original back; corrupt and partial backups are refused", async () => {
    const b = await box()
    expect((await b.claudy(["daemon", "start"])).code).toBe(0)
    const db = chroma(b.port)
    const id = await db.createCollection("history")
    await db.add(id, ["h1"], ["before the backup"])
    const dest = tempDir("claudy-backups-")
    const taken = await b.claudy(["backup", "--dest", dest])
    expect(taken.code).toBe(0)
    const dir = /Backup written to (\S+)/.exec(taken.stdout)![1]!
    expect(readdirSync(dir).sort()).toEqual(["SHA256SUMS", "chromadb.tar.gz", "home.tar.gz", "manifest.json", "memorybank.tar.gz", "plugins.tar.gz"])
    expect((await fetch(`http://127.0.0.1:${b.port}/api/v2/heartbeat`)).ok).toBe(true) // restarted after archiving

    // change the data after the backup
    await db.add(id, ["h2"], ["after the backup"])
    expect(await db.get(id, ["h2"])).toEqual(["after the backup"])

    const listed = await b.claudy(["backup", "list", "--dest", dest, "--json"])
    expect(JSON.parse(listed.stdout)).toMatchObject([{ path: dir, complete: true }])
    const alias = await b.claudy(["backup", "--list-backups", "--dest", dest])
    expect(alias.stdout).toContain(dir)

    // a corrupt copy is refused before anything changes
    const corrupt = join(dest, `${dir.split("/").pop()}-corrupt`)
    await run(["cp", "-a", dir, corrupt])
    const bytes = readFileSync(join(corrupt, "chromadb.tar.gz"))
    const at = bytes.length - 20
    bytes[at] = bytes[at]! ^ 0xff
    writeFileSync(join(corrupt, "chromadb.tar.gz"), bytes)
    const refused = await b.claudy(["restore", corrupt])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("chromadb.tar.gz does not match its sha256")
    expect(refused.stderr).toContain("Nothing was changed")
    expect(await chroma(b.port).get(id, ["h2"])).toEqual(["after the backup"])

    // a partial one (no manifest) too
    rmSync(join(corrupt, "manifest.json"))
    const partial = await b.claudy(["restore", corrupt])
    expect(partial.code).toBe(2)
    expect(partial.stderr).toContain("no manifest.json")

    const restored = await b.claudy(["restore", dir])
    expect(restored.code).toBe(0)
    expect(restored.stdout).toContain("ChromaDB answers")
    const after = chroma(b.port)
    expect(await after.get(id, ["h1", "h2"])).toEqual(["before the backup"])
  })
})

describe("reset", () => {
  test("removes only this HAL9000_HOME's labelled objects; volumes need --volumes --yes", async () => {
    const a = await box()
    const other = await box()
    // a second HAL9000_HOME with the same HAL9000_INSTANCE: only the home tells their objects apart
    const sameInstance = await box({ HAL9000_INSTANCE: a.instance })
    const label = `label=io.hal9000.instance=${a.instance}`
    expect((await a.claudy(["daemon", "start"])).code).toBe(0)
    expect((await other.claudy(["daemon", "start"])).code).toBe(0)
    const project = tempDir("claudy-reset-project-")
    chownSync(project, 1000, 1000)
    expect((await a.claudy(["--via-parent", "-d", "--name", "doomed", project, "--", "sleep", "300"])).code).toBe(0)
    expect((await a.claudy(["pool", "warm", project])).code).toBe(0)
    // its names share the instance's prefix, and so do the shared memory volumes, which are a's: its spawn is refused
    // (it would hand a's memory to the other home), so its session is a container made with its labels
    const refused = await sameInstance.claudy(["spawn", "-d", "--name", "nope", project, "--", "true"])
    expect(refused.code).toBe(7)
    expect(refused.stderr).toMatch(new RegExp(`A volume named '${a.instance}-(memorybank|plugins)' exists but .*another HAL9000_HOME`))
    const theirs = ownerLabels({ instance: a.instance, home: homeHash(realpathSync(sameInstance.home)) }, "worker", "test")
    const labels = Object.entries({ ...theirs, "io.hal9000.session": "kept" }).flatMap(([k, v]) => ["--label", `${k}=${v}`])
    expect((await docker("run", "-d", "--name", `${a.instance}-worker-kept`, ...labels, "claudy-base:trixie", "sleep", "300")).code).toBe(0)
    const kept = (await inspect(`${a.instance}-worker-kept`)).Id
    expect((await sameInstance.claudy(["sessions", "list"])).stdout).toContain("kept")
    const fakeWorker = `${a.instance}-worker-lookalike`
    const fakeVolume = `${a.instance}-chromadb-lookalike`
    expect((await docker("create", "--name", fakeWorker, "claudy-base:trixie", "true")).code).toBe(0)
    expect((await docker("volume", "create", fakeVolume)).code).toBe(0)
    try {
      const needsYes = await a.claudy(["reset", "--volumes"])
      expect(needsYes.code).toBe(2)
      expect(needsYes.stderr).toContain("claudy backup")
      expect(await inspect(`${a.instance}-parent`)).toBeDefined()

      const r = await a.claudy(["reset"])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(`${a.instance}-parent`)
      expect(r.stdout).toContain("Volumes kept")
      // of this instance only the other home's session is left
      expect((await docker("ps", "-aq", "--no-trunc", "--filter", label)).stdout.trim()).toBe(kept)
      expect((await inspect(kept)).State.Running).toBe(true)
      expect((await docker("volume", "ls", "-q", "--filter", label)).stdout.trim().split("\n")).toHaveLength(3)
      expect(existsSync(join(a.home, "sessions"))).toBe(false)
      expect(existsSync(join(sameInstance.home, "sessions", "kept.json"))).toBe(true)

      const wipe = await a.claudy(["reset", "--volumes", "--yes", "--force"])
      expect(wipe.code).toBe(0)
      expect((await docker("volume", "ls", "-q", "--filter", label)).stdout.trim()).toBe("")
      expect((await inspect(kept)).State.Running).toBe(true)

      // the other home's reset removes its session and nothing of a's (a's parent comes back first)
      expect((await a.claudy(["daemon", "start"])).code).toBe(0)
      const parent = (await inspect(`${a.instance}-parent`)).Id
      expect((await sameInstance.claudy(["reset"])).code).toBe(0)
      expect(await inspect(kept)).toBeUndefined()
      expect((await inspect(`${a.instance}-parent`))?.Id).toBe(parent)

      // untouched: the look-alikes and the other HAL9000_HOME's parent and data
      expect(await inspect(fakeWorker)).toBeDefined()
      expect((await docker("volume", "inspect", fakeVolume)).code).toBe(0)
      expect((await inspect(`${other.instance}-parent`)).State.Running).toBe(true)
      expect((await fetch(`http://127.0.0.1:${other.port}/api/v2/heartbeat`)).ok).toBe(true)
    } finally {
      await docker("rm", "-f", fakeWorker)
      await docker("volume", "rm", "-f", fakeVolume)
    }
  })
})
