/**
 * The control server and the thin client on the real engine: every served command gives the same stdout, stderr and
 * exit code through the server and in-process; the socket's permissions; malformed, oversized and other-build
 * requests; a stale socket; a server killed mid-request (never redone); a status right after `docker kill`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, statSync } from "node:fs"
import { createConnection } from "node:net"
import { join } from "node:path"
import { CLAUDY, docker, type Run, type Sandbox, sandboxWithParent, startSupervisor, tracked, waitFor } from "../support/harness.ts"

const t = tracked()
let b: Sandbox
let project: string
let server: { proc: ReturnType<typeof Bun.spawn>; log: () => string }

const socketPath = () => join(b.home, "run", "control.sock")

/** `claudy serve` for the sandbox, its stderr kept (debug level: it logs every request it serves). */
const startServer = async () => {
  const proc = Bun.spawn([CLAUDY, "serve"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...b.env, HAL9000_LOG_LEVEL: "debug" },
    stdout: "ignore",
    stderr: "pipe"
  })
  let text = ""
  void (async () => {
    const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value)
  })()
  await waitFor("the control server", async () => (text.includes("serving claudy commands") ? true : undefined))
  return { proc, log: () => text }
}

const servedCount = () => (server.log().match(/served `/g) ?? []).length

/** Run through the server (asserting it served it), and in-process (CLAUDY_NO_SERVER=1). */
const served = async (args: Array<string>, env: Record<string, string> = {}, cwd?: string): Promise<Run> => {
  const before = servedCount()
  const r = await b.claudy(args, env, cwd)
  await waitFor(`the server's log of ${args.join(" ")}`, async () => (servedCount() > before ? true : undefined), 5_000)
  return r
}
const inProcess = (args: Array<string>, env: Record<string, string> = {}, cwd?: string) =>
  b.claudy(args, { ...env, CLAUDY_NO_SERVER: "1" }, cwd)

/** What changes from one run to the next whoever runs it: uptime and heartbeat milliseconds. */
const steady = (text: string) =>
  text
    .replace(/up \d+[smh][\dmsh]*/g, "up N")
    .replace(/heartbeat [\d.]+ ms/g, "heartbeat N ms")
    .replace(/"(uptimeSeconds|heartbeatMs)": [\d.]+/g, '"$1": N')

const bothWays = async (args: Array<string>, env: Record<string, string> = {}, cwd?: string) => {
  await inProcess(args, env, cwd) // settles what a first read writes (records rebuilt from labels)
  const a = await served(args, env, cwd)
  const c = await inProcess(args, env, cwd)
  return { served: a, inProcess: c }
}

const expectSame = ({ served: a, inProcess: c }: { served: Run; inProcess: Run }) => {
  expect({ code: a.code, stdout: steady(a.stdout), stderr: steady(a.stderr) }).toEqual({
    code: c.code,
    stdout: steady(c.stdout),
    stderr: steady(c.stderr)
  })
}

/** One raw request line; every answer line the server sends back before it closes. */
const raw = (payload: string | Buffer, path = socketPath()) =>
  new Promise<Array<Record<string, unknown>>>((resolve, reject) => {
    const s = createConnection(path)
    let text = ""
    s.setEncoding("utf8")
    s.on("connect", () => s.write(payload))
    s.on("data", (d: string) => {
      text += d
    })
    s.on("error", reject)
    s.on("close", () => resolve(text.split("\n").filter(Boolean).map((l) => JSON.parse(l))))
  })

const request = (over: Record<string, unknown> = {}, box = b) =>
  `${JSON.stringify({ v: 2, build: "x", argv: [CLAUDY, "/$bunfs/root/claudy", "daemon", "status"], env: { ...box.env, HOME: process.env.HOME }, cwd: "/", ...over })}\n`

/** The server's build id, from the decline of a request of another build. */
const serverBuild = async (path = socketPath(), box = b) =>
  /another build \(server (.*), client x\)/.exec(String((await raw(request({}, box), path))[0]!.reason))![1]!

const workerIds = async (session: string) =>
  (await docker("ps", "-aq", "--filter", `label=io.hal9000.instance=${b.instance}`, "--filter", `name=${b.instance}-worker-${session}$`)).stdout
    .split("\n")
    .filter(Boolean)

beforeAll(async () => {
  b = await sandboxWithParent(t)
  project = t.tempDir("claudy-server-project-", 1000)
  server = await startServer()
})
afterAll(async () => {
  server.proc.kill()
  await server.proc.exited
  await t.cleanup()
})

describe("control server", () => {
  test("its socket is 0600 in a 0700 directory of HAL9000_HOME", () => {
    expect(statSync(socketPath()).mode & 0o777).toBe(0o600)
    expect(statSync(join(b.home, "run")).mode & 0o777).toBe(0o700)
  })

  test("daemon status, sessions list|inspect and pool status: same output and exit code both ways", async () => {
    const name = (await inProcess(["--via-parent", "-d", "--name", "both-ways", project, "--", "sleep", "600"])).stdout.trim()
    expect(name).toBe("both-ways")
    for (const args of [
      ["daemon", "status"],
      ["daemon", "status", "--json"],
      ["sessions", "list"],
      ["sessions", "list", "--json"],
      ["sessions", "inspect", "both-ways"],
      ["sessions", "inspect", "both-ways", "--json"],
      ["sessions", "inspect", "no-such-session"],
      ["sessions", "inspect", "no-such-session", "--json"],
      ["sessions", "inspect"], // @effect/cli's own parse error (its colours taken out through a pipe), exit 2
      ["pool", "status"],
      ["pool", "status", "--json"]
    ]) {
      expectSame(await bothWays(args))
    }
  })

  test("settings come from the client's environment and --set, exactly as in-process", async () => {
    // another port than the parent's: the status names it and ChromaDB does not answer there (exit 4)
    const other = await bothWays(["daemon", "status", "--set", "CHROMADB_PORT=1"])
    expectSame(other)
    const port = await bothWays(["daemon", "status"], { CHROMADB_PORT: "2" })
    expectSame(port)
    // a bad value is the same usage error (exit 2) either way
    const bad = await bothWays(["daemon", "status"], { CHROMADB_PORT: "eighty" })
    expect(bad.served.code).toBe(2)
    expect(bad.served.stderr).toContain("CHROMADB_PORT")
    expectSame(bad)
    // the client's log level: debug lines of the calls the server made (a list it keeps makes none; a spawn creates)
    const debug = await served(["--via-parent", "-d", "--name", "debug-level", project, "--", "true"], { HAL9000_LOG_LEVEL: "debug" })
    expect(debug).toMatchObject({ code: 0, stdout: "debug-level\n" })
    expect(debug.stderr).toContain("docker create container")
    expect((await served(["sessions", "list"])).stderr).not.toContain("docker")
    const badSpawn = await bothWays(["--via-parent", "-d", project], { WORKER_MEMORY: "lots" })
    expect(badSpawn.served.code).toBe(2)
    expectSame(badSpawn)
  })

  test("detached spawns through the server: cold and warm, relative to the client's directory, same records", async () => {
    const cold = await served(["--via-parent", "-d", "--name", "served-cold", ".", "--", "sleep", "600"], {}, project)
    expect(cold).toMatchObject({ code: 0, stdout: "served-cold\n" })
    const local = await inProcess(["--via-parent", "-d", "--name", "local-cold", ".", "--", "sleep", "600"], {}, project)
    expect(local).toMatchObject({ code: 0, stdout: "local-cold\n" })
    const view = async (n: string) => {
      const v = JSON.parse((await inProcess(["sessions", "inspect", n, "--json"])).stdout)
      return { ...v, name: "", container_name: "", container_id: "", created_at: "", updated_at: "" }
    }
    expect(await view("served-cold")).toEqual(await view("local-cold"))
    expect((await view("served-cold")).project_dir).toBe(project)

    expect((await inProcess(["pool", "warm", project])).stdout).toContain("Created 1 warm worker")
    const warm = await served(["--via-parent", "-d", "--name", "served-warm", project, "--", "sleep", "600"])
    expect(warm).toMatchObject({ code: 0, stdout: "served-warm\n" })
    const log = await Bun.file(join(b.home, "pool", "spawns.log")).text()
    expect(log).toContain('"session":"served-warm","served":"warm"')
    expect(await view("served-warm")).toEqual(await view("local-cold"))

    // the same name again: the same refusal either way, and again once its parse is kept (cli/keptParses.ts)
    const taken = await bothWays(["--via-parent", "-d", "--name", "served-cold", project])
    expectSame(taken)
    expect(await served(["--via-parent", "-d", "--name", "served-cold", project])).toEqual(taken.served)
    // one argv twice (its parse kept after the first): two new sessions
    const again = ["--via-parent", "-d", "--new", project, "--", "sleep", "600"]
    const [first, second] = [await served(again), await served(again)]
    expect([first.code, second.code]).toEqual([0, 0])
    expect(first.stdout).not.toBe(second.stdout)
  })

  test("concurrent requests: 6 detached spawns at once, 6 sessions", async () => {
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => b.claudy(["--via-parent", "-d", "--name", `many-${i}`, project, "--", "sleep", "600"])))
    expect(rs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0])
    const names = JSON.parse((await inProcess(["sessions", "list", "--json"])).stdout).map((s: { name: string }) => s.name)
    for (let i = 0; i < 6; i++) expect(names).toContain(`many-${i}`)
  })

  test("a served sessions list right after a served spawn lists it; after a docker rm, once the engine's event came, not", async () => {
    for (let i = 0; i < 4; i++) {
      expect((await served(["sessions", "list", "--json"])).code).toBe(0) // the server keeps the list now
      expect((await served(["--via-parent", "-d", "--name", `seen-${i}`, project, "--", "sleep", "600"])).code).toBe(0)
      const names = JSON.parse((await served(["sessions", "list", "--json"])).stdout).map((s: { name: string }) => s.name)
      expect(names).toContain(`seen-${i}`)
    }
    await docker("rm", "-f", `${b.instance}-worker-seen-0`)
    await waitFor("the list without seen-0's container", async () => {
      const listed = JSON.parse((await served(["sessions", "list", "--json"])).stdout) as Array<{ name: string; status: string }>
      return listed.find((s) => s.name === "seen-0")?.status === "gone" ? true : undefined
    }, 10_000)
  })

  test("interactive spawns, help and other commands are not sent; CLAUDY_NO_SERVER=1 runs in-process", async () => {
    const before = servedCount()
    expect((await b.claudy(["daemon", "status", "--help"])).code).toBe(0)
    expect((await b.claudy(["config"])).code).toBe(0)
    expect((await b.claudy(["daemon", "status"], { CLAUDY_NO_SERVER: "1" })).code).toBe(0)
    expect((await b.claudy(["--via-parent", project, "--", "true"])).code).toBe(0) // attached: in-process
    expect(servedCount()).toBe(before)
  })

  test("malformed, oversized, unknown and other-build requests get an error or a refusal, and the server goes on", async () => {
    expect(await raw("this is not json\n")).toEqual([{ t: "error", message: "the request is not JSON" }])
    expect((await raw(`${JSON.stringify({ v: 1 })}\n`))[0]).toMatchObject({ t: "error" })
    expect((await raw(request({ v: 99 })))[0]).toMatchObject({ t: "error", message: expect.stringContaining("protocol version") })
    expect((await raw(request({ env: { A: 1 } })))[0]).toMatchObject({ t: "error", message: "env must be an object of strings" })
    expect((await raw(Buffer.alloc(1024 * 1024 + 10, 0x41)))[0]).toMatchObject({ t: "error", message: expect.stringContaining("larger than") })
    expect((await raw(request()))[0]).toMatchObject({ t: "declined", reason: expect.stringContaining("another build") })
    // a build the server is: still declined for a command it does not serve
    const build = await serverBuild()
    expect((await raw(request({ build, argv: [CLAUDY, "x", "daemon", "run"] })))[0]).toEqual({ t: "declined", reason: "not a served command" })
    const answer = await raw(request({ build }))
    expect(answer[0]).toEqual({ t: "accepted" })
    expect(answer[1]).toMatchObject({ t: "result", code: 0, stdout: expect.stringContaining(`${b.instance}-parent`) })
    expect((await served(["daemon", "status"])).code).toBe(0)
  })

  test("a stale socket (server killed) is ignored: the command runs in-process; a new server replaces it", async () => {
    server.proc.kill(9)
    await server.proc.exited
    expect(existsSync(socketPath())).toBe(true)
    const r = await b.claudy(["daemon", "status"])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`${b.instance}-parent`)
    server = await startServer()
    expect((await served(["daemon", "status"])).code).toBe(0)
  })

  test("server killed mid-request: the client says what it knows and does not run the spawn again", async () => {
    // A worker whose image has no claudy entrypoint never takes its session: the spawn waits 10 s for it, in the server.
    const parentImage = JSON.parse((await inProcess(["config", "--json"])).stdout).PARENT_IMAGE.value
    const client = b.claudy(["-d", "--name", "mid-request", "--image", parentImage, project])
    await waitFor("the server to create the worker", async () => ((await workerIds("mid-request")).length > 0 ? true : undefined))
    server.proc.kill(9)
    await server.proc.exited
    const r = await client
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("the claudy server accepted `claudy -d --name mid-request")
    expect(r.stderr).toContain("is not run again here")
    expect(r.stderr).toContain("claudy sessions list")
    expect(await workerIds("mid-request")).toHaveLength(1)
    server = await startServer()
  })

  test("warm state: volumes are reused between statuses until the engine reports a volume event", async () => {
    const debug = { HAL9000_LOG_LEVEL: "debug" }
    const asksVolumes = async () => (await served(["daemon", "status"], debug)).stderr.includes("docker list volumes")
    // other engineers' volumes and images come and go on this engine too: each such event forgets the reused answer
    await waitFor("a status that reuses the volumes", async () => ((await asksVolumes()) ? undefined : true))
    const v = `${b.instance}-warm-probe`
    await docker("volume", "create", "--label", `io.hal9000.instance=${b.instance}`, v)
    await waitFor("a status that asks for the volumes again", async () => ((await asksVolumes()) ? true : undefined))
    await docker("volume", "rm", v)
  })

  test("daemon run serves the control socket too, and removes it on SIGTERM", async () => {
    const { b: sb, proc } = await startSupervisor(t)
    const path = join(sb.home, "run", "control.sock")
    await waitFor("daemon run's control socket", async () => (existsSync(path) ? true : undefined))
    const answer = await raw(request({ build: await serverBuild(path, sb) }, sb), path)
    expect(answer[0]).toEqual({ t: "accepted" })
    expect(answer[1]).toMatchObject({ t: "result", code: 0, stdout: expect.stringContaining(`${sb.instance}-parent`) })
    proc.kill("SIGTERM")
    expect(await proc.exited).toBe(0)
    expect(existsSync(path)).toBe(false)
  })

  test("a status right after docker kill of the parent shows it stopped (exit 3), both ways", async () => {
    expect((await served(["daemon", "status"])).code).toBe(0)
    await docker("kill", `${b.instance}-parent`)
    const r = await served(["daemon", "status", "--json"])
    expect(r.code).toBe(3)
    expect(JSON.parse(r.stdout)).toMatchObject({ state: "stopped", healthy: false })
    expectSame({ served: r, inProcess: await inProcess(["daemon", "status", "--json"]) })
  })
})
