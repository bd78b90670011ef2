/**
 * The warm pool on the lab's swarm (issue 14, item 5), against the compiled binary: warm workers are services spread
 * over the nodes; a claim is a label-only update at the version read (one winner, the others try the next or go
 * cold), the session handed over on the worker's stdin. 20 concurrent spawns against 5 warm workers give 20 sessions,
 * no worker claimed twice, nothing orphaned; `pool start|status|stop` run the manager against the swarm.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { waitFor } from "../support/harness.ts"
import { dockerAt, type SwarmSandbox, swarmSandbox } from "../support/swarm.ts"

let b: SwarmSandbox
let projects: string
let app: string

const claudy = (args: ReadonlyArray<string>) => b.claudy(args)
const ok = async (args: ReadonlyArray<string>) => {
  const r = await claudy(args)
  if (r.code !== 0) throw new Error(`claudy ${args.join(" ")} exited ${r.code}:\n${r.stderr}`)
  return r
}

interface Service {
  readonly ID: string
  readonly Spec: { readonly Name: string; readonly Labels: Record<string, string> }
}
/** Every service of this sandbox's instance, as the manager has them. */
const services = async (): Promise<Array<Service>> => {
  const ids = (await dockerAt(b.lab.manager, "service", "ls", "-q", "--filter", `label=io.hal9000.instance=${b.instance}`)).stdout.split("\n").filter(Boolean)
  return ids.length === 0 ? [] : JSON.parse((await dockerAt(b.lab.manager, "service", "inspect", ...ids)).stdout)
}
/** The node hostname and state of a service's current task. */
const taskOf = async (id: string) => {
  const out = (await dockerAt(b.lab.manager, "service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}", id)).stdout.trim()
  const [node = "", state = ""] = out.split("\n")[0]?.split(" ") ?? []
  return { node, state: state.toLowerCase() }
}
const status = async () => JSON.parse((await ok(["pool", "status", "--json"])).stdout)
const spawnLog = () =>
  readFileSync(join(b.home, "pool", "spawns.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { session: string; served: "warm" | "cold" })

beforeAll(async () => {
  b = await swarmSandbox({ MAX_WARM_WORKERS: "6", MIN_WARM_WORKERS: "0" })
  projects = join(b.lab.projectsRoot, b.instance)
  app = join(projects, "app")
  mkdirSync(app, { recursive: true })
  chownSync(app, 1000, 1000)
  await ok(["daemon", "start"])
})
afterAll(async () => {
  await b?.claudy(["pool", "stop"])
  await b?.cleanup()
  if (projects) rmSync(projects, { recursive: true, force: true })
})

test("pool warm on a swarm: warm services of the pool's shape, spread over the nodes, ready; status shows each node", async () => {
  await ok(["pool", "scale", "5"])
  expect((await ok(["pool", "warm", app])).stdout).toContain("Created 1 warm worker(s)")
  expect((await ok(["pool", "warm"])).stdout).toContain("Created 4 warm worker(s)")
  const s = await status()
  expect(s.workers).toEqual({ warm: 5, idle: 5, claimed: 0 })
  const nodes = new Set(s.warm_workers.map((w: { node: string }) => w.node))
  expect(nodes.size).toBeGreaterThanOrEqual(2)
  const warm = (await services()).filter((x) => x.Spec.Labels["io.hal9000.warm"] !== undefined)
  expect(warm.map((x) => x.Spec.Labels["io.hal9000.warm"])).toEqual(["free", "free", "free", "free", "free"])
  expect((await claudy(["pool", "status"])).stdout).toMatch(/WARM WORKER\s+NODE\s+STATE/)
})

test("20 concurrent spawns against 5 warm workers: 20 sessions, no worker claimed twice, nothing orphaned", async () => {
  const names = Array.from({ length: 20 }, (_, i) => `race${i}`)
  const before = new Set((await services()).filter((x) => x.Spec.Labels["io.hal9000.warm"] === "free").map((x) => x.ID))
  expect(before.size).toBe(5)
  const runs = await Promise.all(
    names.map((n) => claudy(["--via-parent", "-d", "--name", n, app, "--", "sh", "-c", `echo ${n} > /workspace/${n}.ran; exec sleep 600`]))
  )
  for (const r of runs) expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" })

  // Each session's own command ran, once: a worker handed two sessions would run only the first.
  await waitFor("every session's command to run", async () => (names.every((n) => existsSync(join(app, `${n}.ran`))) ? true : undefined), 120_000, 250)
  for (const n of names) expect(readFileSync(join(app, `${n}.ran`), "utf8").trim()).toBe(n)

  const all = await services()
  const sessions = all.filter((x) => x.Spec.Labels["io.hal9000.session"] !== undefined)
  expect(sessions.map((x) => x.Spec.Labels["io.hal9000.session"]).sort()).toEqual([...names].sort())
  // the 5 warm workers: every one claimed, each by one session; the other 15 sessions cold
  const claimed = sessions.filter((x) => before.has(x.ID))
  expect(claimed.length).toBe(5)
  expect(claimed.every((x) => x.Spec.Labels["io.hal9000.warm"] === "claimed" && x.Spec.Labels["io.hal9000.role"] === "worker")).toBe(true)
  const served = spawnLog().filter((e) => names.includes(e.session))
  expect(served.filter((e) => e.served === "warm").map((e) => e.session).sort()).toEqual(claimed.map((x) => x.Spec.Labels["io.hal9000.session"]!).sort())
  expect(served.filter((e) => e.served === "cold").length).toBe(15)
  // nothing orphaned: every service of the instance is the parent or a session, and every session's task runs
  expect(all.filter((x) => x.Spec.Labels["io.hal9000.session"] === undefined).map((x) => x.Spec.Labels["io.hal9000.role"])).toEqual(["parent"])
  for (const x of sessions) expect((await taskOf(x.ID)).state).toContain("running")
  expect((await status()).workers).toEqual({ warm: 5, idle: 0, claimed: 5 })
  const listed = JSON.parse((await ok(["sessions", "list", "--json"])).stdout) as Array<{ name: string }>
  expect(names.every((n) => listed.some((s) => s.name === n))).toBe(true)
}, 300_000)

test("pool start|status|stop on a swarm: the manager refills the pool to its target, then stops", async () => {
  await ok(["pool", "scale", "2"])
  expect((await ok(["pool", "start", "--check-interval", "1"])).stdout).toContain("Pool manager started")
  await waitFor("the manager to create 2 ready warm workers", async () => {
    const s = await status()
    return s.manager.running && s.workers.idle === 2 ? s : undefined
  }, 120_000, 500)
  expect((await ok(["pool", "stop"])).stdout).toContain("Pool manager stopped")
  const s = await status()
  expect(s.manager.running).toBe(false)
  expect(s.workers.idle).toBe(2) // warm workers stay when the manager stops
}, 180_000)

test("two concurrent spawns of one name against free warm workers: never two sessions of that name", async () => {
  expect((await status()).workers.idle).toBeGreaterThanOrEqual(2) // left by the manager's test
  const runs = await Promise.all([0, 1].map(() => claudy(["--via-parent", "-d", "--name", "twin", app, "--", "sleep", "600"])))
  const twins = (await services()).filter((x) => x.Spec.Labels["io.hal9000.session"] === "twin")
  expect(twins.length).toBeLessThanOrEqual(1)
  expect(runs.filter((r) => r.code === 0).length).toBe(twins.length)
  for (const r of runs.filter((x) => x.code !== 0)) expect(r.stderr).toContain("twin")
  // a claim that yielded removed its worker: no warm service is left claimed without being a session that runs
  const claimedIdle = (await services()).filter((x) => x.Spec.Labels["io.hal9000.warm"] === "claimed" && x.Spec.Labels["io.hal9000.session"] === undefined)
  expect(claimedIdle).toEqual([])
}, 120_000)
