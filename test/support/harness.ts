/**
 * Integration-test helpers. Every test gets its own HAL9000_INSTANCE (so its own container and volume names),
 * its own HAL9000_HOME and its own free port, and cleans up only objects carrying its instance label.
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { connect, createServer } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"

export const ROOT = resolve(import.meta.dir, "../..")
export const CLAUDY = join(ROOT, "dist/claudy")

export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export const run = async (cmd: ReadonlyArray<string>, env: Record<string, string> = {}, cwd = ROOT): Promise<Run> => {
  const proc = Bun.spawn([...cmd], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore"
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited
  ])
  return { code, stdout, stderr }
}

export const docker = (...args: Array<string>) => run(["docker", ...args])

export const freePort = (): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolvePort(port))
    })
  })

export interface Sandbox {
  readonly instance: string
  readonly home: string
  readonly port: number
  readonly env: Record<string, string>
  readonly claudy: (args: ReadonlyArray<string>, extraEnv?: Record<string, string>, cwd?: string) => Promise<Run>
  /**
   * Remove every container and volume with this sandbox's instance label, and its home; then fail loudly if any of
   * them, or a process of its run, is still there (processes are ended first, so nothing outlives the suite).
   */
  readonly cleanup: () => Promise<void>
}

let counter = 0
/**
 * `engine`: the DOCKER_HOST of the engine this sandbox's objects live on, for its cleanup (the Podman suite's own
 * service); the default engine otherwise — also when `extra` points DOCKER_HOST at an engine that does not exist.
 */
export const sandbox = async (extra: Record<string, string> = {}, engineHost?: string): Promise<Sandbox> => {
  const instance = `t${process.pid.toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`
  const home = mkdtempSync(join(tmpdir(), `claudy-test-${instance}-`))
  const port = await freePort()
  const env = {
    HAL9000_HOME: home,
    HAL9000_INSTANCE: instance,
    CHROMADB_PORT: String(port),
    CHROMADB_START_TIMEOUT: "60",
    ...extra
  }
  const claudy = (args: ReadonlyArray<string>, extraEnv: Record<string, string> = {}, cwd = ROOT) =>
    run([CLAUDY, ...args], { ...env, ...extraEnv }, cwd)
  // its own instance, and the one it was told to use if a test gave another (two homes of one instance)
  const labels = [...new Set([instance, env.HAL9000_INSTANCE])].map((i) => `label=io.hal9000.instance=${i}`)
  // likewise its own home, and the HAL9000_HOME it was told to use
  const homes = [...new Set([home, env.HAL9000_HOME])].filter((h) => h !== "")
  const cleanup = async () => {
    // A pool manager left by a failed test would recreate workers while they are removed; so would any other
    // process of this run (a supervisor): those are ended, and reported below.
    await claudy(["pool", "stop"])
    const stray = await endProcesses(homes)
    const engine = (...args: Array<string>) => run(["docker", ...args], engineHost ? { DOCKER_HOST: engineHost } : {})
    for (const label of labels) {
      const ids = (await engine("ps", "-aq", "--filter", label)).stdout.split("\n").filter(Boolean)
      if (ids.length > 0) await engine("rm", "-f", "-v", ...ids)
      const vols = (await engine("volume", "ls", "-q", "--filter", label)).stdout.split("\n").filter(Boolean)
      if (vols.length > 0) await engine("volume", "rm", "-f", ...vols)
    }
    for (const h of homes) {
      // a test may have put HAL9000_HOME on a file system of its own (a full or read-only tmpfs)
      if (existsSync(h) && statSync(h).dev !== statSync(dirname(h)).dev) await run(["umount", h])
      rmSync(h, { recursive: true, force: true })
    }
    await assertNothingLeft(labels, homes, stray, engine)
  }
  return { instance, home, port, env, claudy, cleanup }
}

/** Live processes (not zombies) whose environment names `home` as HAL9000_HOME: a run's claudy, manager, supervisor. */
export const processesOf = (home: string): Array<number> =>
  readdirSync("/proc")
    .filter((d) => /^[0-9]+$/.test(d) && Number(d) !== process.pid)
    .filter((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`HAL9000_HOME=${home}`) &&
          !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"))
        )
      } catch {
        return false // gone meanwhile
      }
    })
    .map(Number)

/** End (SIGKILL) every live process of these homes' runs and wait until they are gone; returns what they were. */
const endProcesses = async (homes: ReadonlyArray<string>) => {
  const found = homes.flatMap(processesOf).map((pid) => {
    let cmd = "?"
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim()
    } catch {
      // ended meanwhile
    }
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // ended meanwhile
    }
    return `process ${pid} (${cmd})`
  })
  const gone = async () => (homes.flatMap(processesOf).length === 0 ? true : undefined)
  if (found.length > 0) await waitFor(`the processes of ${homes.join(", ")} to end`, gone, 10_000)
  return found
}

/**
 * The end of every suite: nothing of a sandbox's run is left — no container or volume with its instance labels, no
 * home (slots, claims, records), and no process of its run was still alive when it was cleaned (`stray`).
 */
const assertNothingLeft = async (
  labels: ReadonlyArray<string>,
  homes: ReadonlyArray<string>,
  stray: ReadonlyArray<string>,
  engine: (...args: Array<string>) => Promise<Run> = docker
) => {
  const left = [...stray]
  for (const label of labels) {
    const [ps, vols] = await Promise.all([engine("ps", "-aq", "--filter", label), engine("volume", "ls", "-q", "--filter", label)])
    if (ps.code !== 0 || vols.code !== 0) left.push(`(the engine could not be asked: ${ps.stderr}${vols.stderr})`)
    left.push(...ps.stdout.split("\n").filter(Boolean).map((id) => `container ${id} (${label})`))
    left.push(...vols.stdout.split("\n").filter(Boolean).map((v) => `volume ${v} (${label})`))
  }
  left.push(...homes.filter((h) => existsSync(h)).map((h) => `HAL9000_HOME ${h}`))
  if (left.length > 0) throw new Error(`left behind by this suite's run:\n  ${left.join("\n  ")}`)
}

export const inspect = async (name: string): Promise<any> => {
  const r = await docker("inspect", name)
  return r.code === 0 ? JSON.parse(r.stdout)[0] : undefined
}

/** Poll `check` every `everyMs` until it returns a value, or fail after `ms`. For conditions, never for fixed waits. */
export const waitFor = async <A>(what: string, check: () => Promise<A | undefined>, ms = 30_000, everyMs = 100): Promise<A> => {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await Bun.sleep(everyMs)
  }
}

/** A tiny ChromaDB v2 HTTP client for writing and reading back real records. */
export const chroma = (port: number) => {
  const base = `http://127.0.0.1:${port}/api/v2/tenants/default_tenant/databases/default_database`
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body)
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`POST ${path} -> ${res.status}: ${text}`)
    return text ? JSON.parse(text) : undefined
  }
  return {
    createCollection: async (name: string): Promise<string> => (await post("/collections", { name, get_or_create: true })).id,
    collectionId: async (name: string): Promise<string | undefined> => {
      const res = await fetch(`${base}/collections/${name}`)
      return res.ok ? (await res.json()).id : undefined
    },
    add: (id: string, ids: Array<string>, documents: Array<string>) =>
      post(`/collections/${id}/add`, { ids, documents, embeddings: ids.map((_, i) => [i + 0.1, 0.2, 0.3]) }),
    get: async (id: string, ids: Array<string>): Promise<Array<string>> =>
      (await post(`/collections/${id}/get`, { ids, include: ["documents"] })).documents
  }
}

/** Sandboxes and temp directories a test file creates, removed together by `cleanup` (call it in afterAll). */
export const tracked = () => {
  const boxes: Array<Sandbox> = []
  const dirs: Array<string> = []
  return {
    box: async (extra: Record<string, string> = {}, engineHost?: string) => {
      const b = await sandbox(extra, engineHost)
      boxes.push(b)
      return b
    },
    tempDir: (prefix: string, owner?: number) => {
      const d = mkdtempSync(join(tmpdir(), prefix))
      if (owner !== undefined) chownSync(d, owner, owner)
      dirs.push(d)
      return d
    },
    /** Clean every sandbox and directory, then fail with everything any of them left behind. */
    cleanup: async () => {
      const problems: Array<string> = []
      for (const b of boxes.splice(0)) await b.cleanup().catch((e: Error) => problems.push(e.message))
      for (const d of dirs.splice(0)) {
        try {
          rmSync(d, { recursive: true, force: true })
        } catch (e) {
          problems.push(`${d}: ${(e as Error).message}`)
        }
      }
      if (problems.length > 0) throw new Error(problems.join("\n"))
    }
  }
}

/** A tracked sandbox with its parent started: a test file's usual beforeAll (its afterAll calls `t.cleanup`). */
export const sandboxWithParent = async (t: { box: (extra?: Record<string, string>) => Promise<Sandbox> }, extra: Record<string, string> = {}) => {
  const b = await t.box(extra)
  const r = await b.claudy(["daemon", "start"])
  if (r.code !== 0) throw new Error(`daemon start failed: ${r.stderr}`)
  return b
}

/** `claudy daemon run` for a sandbox with its health server on a free port; resolves once /health/ready answers 200. */
export const startSupervisor = async (t: { box: (extra?: Record<string, string>) => Promise<Sandbox> }, extraEnv: Record<string, string> = {}) => {
  const port = await freePort()
  const b = await t.box({ HAL9000_HTTP_ADDR: `127.0.0.1:${port}`, HAL9000_WATCHDOG_INTERVAL: "1" })
  const proc = Bun.spawn([CLAUDY, "daemon", "run"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...b.env, ...extraEnv },
    stdout: "ignore",
    stderr: "ignore"
  })
  const ready = () => fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok).catch(() => false)
  await waitFor("the supervisor's /health/ready", async () => ((await ready()) ? true : undefined), 60_000)
  return { b, port, proc }
}

/** A tmux session running `command` in a real terminal (rows x cols), with the helpers TTY tests need. */
export const tmux = (name: string) => {
  const pane = async () => (await run(["tmux", "capture-pane", "-p", "-t", name])).stdout
  return {
    start: (command: string, cols = 120, rows = 40) => run(["tmux", "new-session", "-d", "-s", name, "-x", String(cols), "-y", String(rows), command]),
    pane,
    keys: (...k: Array<string>) => run(["tmux", "send-keys", "-t", name, ...k]),
    resize: (cols: number, rows: number) => run(["tmux", "resize-window", "-t", name, "-x", String(cols), "-y", String(rows)]),
    waitPane: (text: string | RegExp, ms = 30_000) =>
      waitFor(`${name}'s pane to show ${text}`, async () => {
        const p = await pane()
        return (typeof text === "string" ? p.includes(text) : text.test(p)) ? p : undefined
      }, ms),
    kill: () => run(["tmux", "kill-session", "-t", name])
  }
}

/** `env K=V … claudy ARGS` for a shell command line (tmux runs one). */
export const claudyLine = (b: Sandbox, args: string) => `env ${Object.entries(b.env).map(([k, v]) => `${k}=${v}`).join(" ")} ${CLAUDY} ${args}`

/** This host's engine offered on a tcp:// port, as a remote engine would be; `close` stops it (call it in afterAll). */
export const tcpEngine = async () => {
  const server = createServer((client) => {
    const engine = connect("/var/run/docker.sock")
    client.pipe(engine).pipe(client)
    client.on("error", () => engine.destroy())
    engine.on("error", () => client.destroy())
  })
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
  const port = (server.address() as { port: number }).port
  return { dockerHost: `tcp://127.0.0.1:${port}`, close: () => new Promise<void>((ok) => server.close(() => ok())) }
}
