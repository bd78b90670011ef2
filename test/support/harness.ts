/**
 * Integration-test helpers. Every test gets its own HAL9000_INSTANCE (so its own container and volume names),
 * its own HAL9000_HOME and its own free port, and cleans up only objects carrying its instance label.
 */
import { chownSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

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
  /** remove every container and volume with this sandbox's instance label, and its home */
  readonly cleanup: () => Promise<void>
}

let counter = 0
export const sandbox = async (extra: Record<string, string> = {}): Promise<Sandbox> => {
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
  const cleanup = async () => {
    // A pool manager left by a failed test would recreate workers while they are removed.
    await claudy(["pool", "stop"])
    const label = `label=io.hal9000.instance=${instance}`
    // the sandbox's engine (the Podman suite points DOCKER_HOST at its own service)
    const engine = (...args: Array<string>) => run(["docker", ...args], extra.DOCKER_HOST ? { DOCKER_HOST: extra.DOCKER_HOST } : {})
    const ids = (await engine("ps", "-aq", "--filter", label)).stdout.split("\n").filter(Boolean)
    if (ids.length > 0) await engine("rm", "-f", "-v", ...ids)
    const vols = (await engine("volume", "ls", "-q", "--filter", label)).stdout.split("\n").filter(Boolean)
    if (vols.length > 0) await engine("volume", "rm", "-f", ...vols)
    rmSync(home, { recursive: true, force: true })
  }
  return { instance, home, port, env, claudy, cleanup }
}

export const inspect = async (name: string): Promise<any> => {
  const r = await docker("inspect", name)
  return r.code === 0 ? JSON.parse(r.stdout)[0] : undefined
}

/** Poll `check` until it returns a value, or fail after `ms`. For conditions, never for fixed waits. */
export const waitFor = async <A>(what: string, check: () => Promise<A | undefined>, ms = 30_000): Promise<A> => {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await Bun.sleep(100)
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
    box: async (extra: Record<string, string> = {}) => {
      const b = await sandbox(extra)
      boxes.push(b)
      return b
    },
    tempDir: (prefix: string, owner?: number) => {
      const d = mkdtempSync(join(tmpdir(), prefix))
      if (owner !== undefined) chownSync(d, owner, owner)
      dirs.push(d)
      return d
    },
    cleanup: async () => {
      for (const b of boxes.splice(0)) await b.cleanup()
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
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
