/**
 * Faults on the lab's swarm (issue 14, item 7), against the compiled binary with the pool manager running: a worker
 * node's dockerd stopped (its warm workers replaced on other nodes, its sessions reported lost, never hung); the
 * manager node's dockerd restarted (state reconciled from labels: sessions found again, the pool refilled, claims
 * work); a node cut off by its link (new spawns avoid it). Each test restores what it broke in its `finally`, and the
 * file runs under /work/tools/locked: the lab is shared.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { chownSync, mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { ROOT, run, waitFor } from "../support/harness.ts"
import { dockerAt, type SwarmSandbox, swarmSandbox } from "../support/swarm.ts"

let b: SwarmSandbox
let projects: string
let app: string
const WARM = 3

const claudy = (args: ReadonlyArray<string>) => b.claudy(args)
/** A command that must answer: failing the test after `ms` rather than hanging it (a fault must not hang claudy). */
const answers = async (args: ReadonlyArray<string>, ms = 60_000) => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`claudy ${args.join(" ")} did not answer within ${ms / 1000} s`)), ms)
  })
  try {
    return await Promise.race([claudy(args), hung])
  } finally {
    clearTimeout(timer)
  }
}
const ok = async (args: ReadonlyArray<string>) => {
  const r = await answers(args)
  if (r.code !== 0) throw new Error(`claudy ${args.join(" ")} exited ${r.code}:\n${r.stderr}`)
  return r
}
interface PoolStatus {
  readonly manager: { readonly running: boolean }
  readonly workers: { readonly idle: number }
  readonly warm_workers: ReadonlyArray<{ readonly name: string; readonly node: string; readonly state: string }>
}
const status = async () => JSON.parse((await ok(["pool", "status", "--json"])).stdout) as PoolStatus
const inspect = async (session: string) =>
  JSON.parse((await ok(["sessions", "inspect", "--json", session])).stdout) as { status: string; node: string | null }

const manager = () => b.lab.manager
const nodeState = async (node: string) =>
  (await dockerAt(manager(), "node", "inspect", "--format", "{{.Status.State}}", node)).stdout.trim()
const dockerdPid = async (node: string) => Number((await run(["cat", `/run/claudy-lab/${node}.pid`])).stdout.trim())
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
/** Stop one node's dockerd (SIGTERM, as a host shutdown would) and wait until it has exited. */
const stopDaemon = async (node: string) => {
  const pid = await dockerdPid(node)
  expect(pid).toBeGreaterThan(0)
  process.kill(pid, "SIGTERM")
  await waitFor(`the dockerd of ${node} to exit`, async () => (alive(pid) ? undefined : true), 90_000, 250)
}
/** Start every stopped node daemon again (the lab's own `up` is idempotent) and wait until every node is ready. */
const restoreDaemons = async () => {
  const up = await run(["bash", "scripts/swarm-lab", "up", "--no-images"], {}, ROOT)
  if (up.code !== 0) throw new Error(`swarm-lab up: ${up.stderr}`)
  await allReady()
}
const allReady = () =>
  waitFor("every lab node to be ready", async () => {
    for (const n of Object.keys(b.lab.nodes)) if ((await nodeState(n)) !== "ready") return undefined
    return true
  }, 120_000, 500)
const link = (node: string, state: "up" | "down") => run(["ip", "-n", "claudy-lab-sw", "link", "set", `clab-v${node.slice(1)}`, state])

/** The pool manager keeps WARM free warm workers, all ready, none on `avoid`. */
const poolRefilled = (avoid?: string) =>
  waitFor(`the pool to hold ${WARM} ready warm workers${avoid ? ` off ${avoid}` : ""}`, async () => {
    const s = await status()
    const idle = s.warm_workers.filter((w) => w.state === "idle")
    return s.workers.idle === WARM && idle.every((w) => w.node !== avoid) ? s : undefined
  }, 150_000, 1000)

beforeAll(async () => {
  b = await swarmSandbox({ MAX_WARM_WORKERS: String(WARM + 2), MIN_WARM_WORKERS: String(WARM) })
  projects = join(b.lab.projectsRoot, b.instance)
  app = join(projects, "app")
  mkdirSync(app, { recursive: true })
  chownSync(app, 1000, 1000)
  await ok(["daemon", "start"])
  await ok(["pool", "warm", app])
  await ok(["pool", "start", "--check-interval", "1"])
  await poolRefilled()
})
afterAll(async () => {
  await b?.claudy(["pool", "stop"])
  await b?.cleanup()
  if (projects) rmSync(projects, { recursive: true, force: true })
})

test("a worker node's dockerd stopped: its warm workers are replaced on other nodes, its session is reported lost, nothing hangs", async () => {
  await ok(["-d", "--name", "on-n3", "--node", "n3", app, "--", "sleep", "600"])
  expect((await inspect("on-n3")).node).toBe("n3")
  // a warm worker on n3 too: while the spread put none there, take one (the manager makes another, elsewhere or there)
  for (let i = 0; i < 4 && !(await status()).warm_workers.some((w) => w.node === "n3" && w.state === "idle"); i++) {
    await ok(["--via-parent", "-d", "--name", `filler${i}`, app, "--", "sleep", "600"])
    await poolRefilled()
  }
  expect((await status()).warm_workers.some((w) => w.node === "n3" && w.state === "idle")).toBe(true)
  try {
    await stopDaemon("n3")
    await waitFor("the session on n3 to be reported lost", async () => ((await inspect("on-n3")).status === "lost" ? true : undefined), 120_000, 1000)
    const listed = JSON.parse((await ok(["sessions", "list", "--json"])).stdout) as Array<{ name: string; status: string }>
    expect(listed.find((s) => s.name === "on-n3")?.status).toBe("lost")
    const s = await poolRefilled("n3")
    expect(s.warm_workers.filter((w) => w.state === "idle").every((w) => w.node !== "n3")).toBe(true)
    // and a spawn still gets a warm worker, from a node that is up
    await ok(["--via-parent", "-d", "--name", "after-n3", app, "--", "sleep", "600"])
    expect((await inspect("after-n3")).node).not.toBe("n3")
  } finally {
    await restoreDaemons()
  }
}, 420_000)

test("the manager node's dockerd restarted: sessions and the pool are found again from labels, and claims work", async () => {
  await ok(["-d", "--name", "on-n2", "--node", "n2", app, "--", "sleep", "600"])
  try {
    await stopDaemon("n1")
    // while the manager is away, claudy says so instead of hanging
    const away = await answers(["sessions", "list"])
    expect(away.code).not.toBe(0)
  } finally {
    await restoreDaemons()
  }
  // nothing but labels tells claudy what is what: the session on n2 survived and is found by its label
  await waitFor("the session on n2 to be seen running again", async () => ((await inspect("on-n2")).status === "running" ? true : undefined), 120_000, 1000)
  await poolRefilled()
  await ok(["--via-parent", "-d", "--name", "after-n1", app, "--", "sleep", "600"])
  const log = (await run(["cat", join(b.home, "pool", "spawns.log")])).stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l))
  expect(log.find((e: { session: string }) => e.session === "after-n1")?.served).toBe("warm")
}, 420_000)

test("a node cut off (its link down): new spawns avoid it, its warm workers are replaced", async () => {
  await poolRefilled()
  try {
    expect((await link("n3", "down")).code).toBe(0)
    await waitFor("the manager to see n3 down", async () => ((await nodeState("n3")) === "down" ? true : undefined), 120_000, 500)
    for (const n of ["cut-a", "cut-b", "cut-c", "cut-d"]) {
      await ok(["-d", "--name", n, app, "--", "sleep", "600"])
      expect((await inspect(n)).node).not.toBe("n3")
    }
    await poolRefilled("n3")
    await ok(["--via-parent", "-d", "--name", "cut-warm", app, "--", "sleep", "600"])
    expect((await inspect("cut-warm")).node).not.toBe("n3")
  } finally {
    await link("n3", "up")
    await allReady()
  }
}, 420_000)
