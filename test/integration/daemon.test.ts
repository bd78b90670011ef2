/**
 * The parent daemon against the real engine and the real ChromaDB, through the compiled binary.
 * Each test has its own instance (names), HAL9000_HOME and port, and removes only what carries its labels.
 */
import { afterEach, describe, expect, test } from "bun:test"
import { chroma, docker, freePort, inspect, run, sandbox, type Sandbox } from "../support/harness.ts"

const boxes: Array<Sandbox> = []
const box = async (extra: Record<string, string> = {}) => {
  const b = await sandbox(extra)
  boxes.push(b)
  return b
}
afterEach(async () => {
  for (const b of boxes.splice(0)) await b.cleanup()
})

const heartbeatOk = async (port: number) => (await fetch(`http://127.0.0.1:${port}/api/v2/heartbeat`)).ok

describe("daemon lifecycle", () => {
  test("cold start creates labelled volumes and a parent whose ChromaDB answers; a second start is a no-op", async () => {
    const b = await box()
    const first = await b.claudy(["daemon", "start"])
    expect(first.code).toBe(0)
    expect(first.stderr).toContain(`created volume ${b.instance}-chromadb`)
    expect(first.stdout).toContain(`Parent container '${b.instance}-parent' created`)
    expect(first.stdout).toContain("claudy --via-parent")
    expect(await heartbeatOk(b.port)).toBe(true)

    const parent = await inspect(`${b.instance}-parent`)
    expect(parent.Config.Labels["io.hal9000.managed"]).toBe("true")
    expect(parent.Config.Labels["io.hal9000.role"]).toBe("parent")
    expect(parent.HostConfig.RestartPolicy.Name).toBe("unless-stopped")
    expect(parent.HostConfig.PortBindings[`${b.port}/tcp`]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(b.port) }])
    expect(parent.Config.Env).toContain(`CHROMADB_PORT=${b.port}`)
    expect(parent.Mounts.map((m: any) => `${m.Name}:${m.Destination}`).sort()).toEqual(
      [`${b.instance}-chromadb:/data/chromadb`, `${b.instance}-memorybank:/data/membank`, `${b.instance}-plugins:/data/plugins`]
    )
    for (const v of ["chromadb", "memorybank", "plugins"]) {
      const vol = JSON.parse((await docker("volume", "inspect", `${b.instance}-${v}`)).stdout)[0]
      expect(vol.Labels["io.hal9000.managed"]).toBe("true")
    }

    const second = await b.claudy(["daemon", "start"])
    expect(second.code).toBe(0)
    expect(second.stdout).toContain("is already running")
    expect((await inspect(`${b.instance}-parent`)).Id).toBe(parent.Id)

    const status = await b.claudy(["daemon", "status", "--json"])
    expect(status.code).toBe(0)
    const s = JSON.parse(status.stdout)
    expect(s.state).toBe("running")
    expect(s.healthy).toBe(true)
    expect(s.chromadb.heartbeat).toBe(true)
    expect(s.chromadb.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(s.port).toBe(b.port)
    expect(s.volumes.every((v: any) => v.present)).toBe(true)
  })

  test("data written to ChromaDB survives stop/start and a restart onto another port", async () => {
    const b = await box()
    expect((await b.claudy(["daemon", "start"])).code).toBe(0)
    const db = chroma(b.port)
    const id = await db.createCollection("memories")
    await db.add(id, ["m1", "m2"], ["the pod bay doors", "daisy, daisy"])

    const stop = await b.claudy(["daemon", "stop"])
    expect(stop.code).toBe(0)
    expect(stop.stdout).toContain("stopped")
    const stopped = await b.claudy(["daemon", "status"])
    expect(stopped.code).toBe(3)
    expect(stopped.stdout).toContain("claudy daemon start")

    const again = await b.claudy(["daemon", "start"])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain("started")
    expect(await chroma(b.port).get(id, ["m1", "m2"])).toEqual(["the pod bay doors", "daisy, daisy"])

    const newPort = await freePort()
    const restarted = await b.claudy(["daemon", "restart"], { CHROMADB_PORT: String(newPort) })
    expect(restarted.code).toBe(0)
    expect(restarted.stdout).toContain(`http://127.0.0.1:${newPort}`)
    expect(await heartbeatOk(newPort)).toBe(true)
    const moved = chroma(newPort)
    const sameId = await moved.collectionId("memories")
    expect(sameId).toBe(id)
    expect(await moved.get(id, ["m2"])).toEqual(["daisy, daisy"])
    const st = JSON.parse((await b.claudy(["daemon", "status", "--json"], { CHROMADB_PORT: String(newPort) })).stdout)
    expect(st.port).toBe(newPort)
  })

  test("a start with other settings is reported, not applied, until --recreate", async () => {
    const b = await box()
    expect((await b.claudy(["daemon", "start"])).code).toBe(0)
    const other = await freePort()
    const differs = await b.claudy(["daemon", "start"], { CHROMADB_PORT: String(other) })
    expect(differs.code).toBe(7)
    expect(differs.stderr).toContain("runs with other settings")
    expect(differs.stderr).toContain(`CHROMADB_PORT ${b.port} -> ${other}`)
    expect(differs.stderr).toContain("claudy daemon restart")
    expect(await heartbeatOk(b.port)).toBe(true)
    const recreated = await b.claudy(["daemon", "start", "--recreate"], { CHROMADB_PORT: String(other) })
    expect(recreated.code).toBe(0)
    expect(recreated.stdout).toContain("recreated")
    expect(await heartbeatOk(other)).toBe(true)
  })

  test("a port held by another process is named in the error and nothing is left behind", async () => {
    const b = await box()
    const holder = Bun.spawn(["python3", "-m", "http.server", String(b.port), "--bind", "127.0.0.1"], {
      stdout: "ignore",
      stderr: "ignore"
    })
    try {
      // wait until the holder really listens
      const deadline = Date.now() + 10_000
      while (!(await fetch(`http://127.0.0.1:${b.port}/`).then((r) => r.ok).catch(() => false))) {
        if (Date.now() > deadline) throw new Error("python http.server did not start")
        await Bun.sleep(50)
      }
      const r = await b.claudy(["daemon", "start"])
      expect(r.code).toBe(7)
      expect(r.stderr).toContain(`Port ${b.port} on 127.0.0.1 is already in use by process python3 (pid ${holder.pid}`)
      expect(r.stderr).toContain("CHROMADB_PORT=8080 claudy daemon restart")
      expect(await inspect(`${b.instance}-parent`)).toBeUndefined()
    } finally {
      holder.kill()
      await holder.exited
    }
  })

  test("an absent parent image gives the guide's message and the build fix, and creates no container", async () => {
    const b = await box({ PARENT_IMAGE: `claudy-test-absent-${Date.now()}:nope` })
    const r = await b.claudy(["daemon", "start"])
    expect(r.code).toBe(6)
    expect(r.stderr).toContain(`Unable to find image '${b.env.PARENT_IMAGE}'`)
    expect(r.stderr).toContain("claudy images build parent")
    expect(await inspect(`${b.instance}-parent`)).toBeUndefined()
  })

  test("ChromaDB that never answers fails after CHROMADB_START_TIMEOUT with the real number and the log tail", async () => {
    // 8 s: long enough for ChromaDB to log that it listens even on a loaded machine, since the tail must show it
    // CHROMADB_HOST=127.0.0.1 binds ChromaDB to the parent's own loopback, so the published port never answers.
    const b = await box({ CHROMADB_START_TIMEOUT: "8", CHROMADB_HOST: "127.0.0.1" })
    const r = await b.claudy(["daemon", "start"])
    expect(r.code).toBe(8)
    expect(r.stderr).toContain("ChromaDB server failed to start within 8s")
    expect(r.stderr).toContain("last lines of")
    expect(r.stderr).toContain(`Frontend server listening on address, addr: 127.0.0.1:${b.port}`)
    expect(r.stderr).toContain("likely cause: CHROMADB_HOST=127.0.0.1 binds ChromaDB to the parent's own loopback")
  })

  test("no engine: the real address and exit 5", async () => {
    const b = await box({ DOCKER_HOST: "unix:///tmp/claudy-no-such-engine.sock" })
    for (const args of [["daemon", "status"], ["daemon", "start"]]) {
      const r = await b.claudy(args)
      expect(r.code).toBe(5)
      expect(r.stderr).toContain("Cannot connect to the Docker daemon at unix:///tmp/claudy-no-such-engine.sock")
    }
  })

  test("unlabelled look-alikes are never touched; a foreign volume with our name is refused", async () => {
    const b = await box()
    const lookalike = `${b.instance}-parent-lookalike`
    const foreignVol = `${b.instance}-chromadb`
    expect((await docker("create", "--name", lookalike, "claudy-base:trixie", "true")).code).toBe(0)
    expect((await docker("volume", "create", `${b.instance}-lookalike-vol`)).code).toBe(0)
    expect((await docker("volume", "create", foreignVol)).code).toBe(0)
    try {
      const r = await b.claudy(["daemon", "start"])
      expect(r.code).toBe(7)
      expect(r.stderr).toContain(`A volume named '${foreignVol}' exists but was not created by this claudy`)
      expect(await inspect(`${b.instance}-parent`)).toBeUndefined()
      // Now without the colliding volume: claudy starts and still leaves the look-alikes alone.
      await docker("volume", "rm", foreignVol)
      expect((await b.claudy(["daemon", "start"])).code).toBe(0)
      expect((await b.claudy(["daemon", "stop"])).code).toBe(0)
      expect((await inspect(lookalike)).State.Status).toBe("created")
      expect((await docker("volume", "inspect", `${b.instance}-lookalike-vol`)).code).toBe(0)
    } finally {
      await docker("rm", "-f", lookalike)
      await docker("volume", "rm", "-f", `${b.instance}-lookalike-vol`, foreignVol)
    }
  })

  test("a second HAL9000_HOME on the same instance name is refused, not adopted", async () => {
    const a = await box()
    expect((await a.claudy(["daemon", "start"])).code).toBe(0)
    const r = await a.claudy(["daemon", "status"], { HAL9000_HOME: `${a.home}/other` })
    expect(r.code).toBe(7)
    expect(r.stderr).toContain("belongs to another HAL9000_HOME")
    const stop = await a.claudy(["daemon", "stop"], { HAL9000_HOME: `${a.home}/other` })
    expect(stop.code).toBe(7)
    expect((await inspect(`${a.instance}-parent`)).State.Running).toBe(true)
  })
})

describe("bad configuration never reaches the engine", () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ["CHROMADB_PORT=abc", { CHROMADB_PORT: "abc" }, "CHROMADB_PORT"],
    ["CHROMADB_PORT=0", { CHROMADB_PORT: "0" }, "CHROMADB_PORT"],
    ["CHROMADB_PORT=70000", { CHROMADB_PORT: "70000" }, "CHROMADB_PORT"],
    ["CHROMADB_PORT=", { CHROMADB_PORT: "" }, "CHROMADB_PORT"],
    ["MIN_WARM_WORKERS=7 MAX_WARM_WORKERS=5", { MIN_WARM_WORKERS: "7", MAX_WARM_WORKERS: "5" }, "MIN_WARM_WORKERS"],
    ["WORKER_MEMORY=0", { WORKER_MEMORY: "0" }, "WORKER_MEMORY"],
    ["WORKER_MEMORY=-1", { WORKER_MEMORY: "-1" }, "WORKER_MEMORY"],
    ["WORKER_MEMORY=lots", { WORKER_MEMORY: "lots" }, "WORKER_MEMORY"],
    ["WORKER_MEMORY=", { WORKER_MEMORY: "" }, "WORKER_MEMORY"],
    ["WORKER_CPUS=", { WORKER_CPUS: "" }, "WORKER_CPUS"],
    ["HAL9000_HOME=", { HAL9000_HOME: "" }, "HAL9000_HOME"]
  ]
  test.each(cases)("%s -> exit 2 naming the variable, nothing created", async (_label, env, variable) => {
    const b = await box(env)
    const r = await b.claudy(["daemon", "start"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`Error: ${variable}`)
    expect(r.stderr).toContain("Fix:")
    // read after the command: no container and no volume of this instance exists (and the listings themselves worked)
    const label = `label=io.hal9000.instance=${b.instance}`
    const [containers, volumes] = await Promise.all([docker("ps", "-aq", "--filter", label), docker("volume", "ls", "-q", "--filter", label)])
    expect([containers.code, volumes.code]).toEqual([0, 0])
    expect(containers.stdout + volumes.stdout).toBe("")
    expect(await inspect(`${b.instance}-parent`)).toBeUndefined()
  })

  test("--set with an unknown name is a usage error", async () => {
    const b = await box()
    const r = await b.claudy(["config", "--set", "NOPE=1"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("does not name a known setting")
  })
})

test("the harness's docker client answers (guards against a silently missing engine)", async () => {
  expect((await run(["docker", "info", "--format", "{{.ServerVersion}}"])).code).toBe(0)
})
