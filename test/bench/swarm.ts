/**
 * `make bench-swarm`: the swarm figures on the lab (scripts/swarm-lab up first), each next to its baseline measured in
 * the same run, written into the swarm section of docs/BENCHMARKS.md (only that section: swarmSection.ts). Times are
 * taken to "the session's command runs" (it creates a marker file in the project, polled on the host, where the lab's
 * projects root lives): `claudy -d` returns once the session is handed over, and `docker service create -d` before
 * anything runs, so their exits are not comparable. Uses its own instance and HAL9000_HOME; removes only its own.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { join } from "node:path"
import { ROOT, run } from "../support/harness.ts"
import { dockerAt, swarmSandbox } from "../support/swarm.ts"
import { comparedRow, type Row, type Stat, statsOf, tableRows } from "./stats.ts"
import { type InspectedSpec, serviceCreateArgs } from "./swarmBaseline.ts"
import { SWARM_BEGIN, SWARM_END, withSwarmSection } from "./swarmSection.ts"

const RUNS = Number(process.env.BENCH_RUNS ?? 10)
const BURST = 20
const BURST_WARM = 5
const b = await swarmSandbox({ MIN_WARM_WORKERS: "0", MAX_WARM_WORKERS: String(BURST_WARM + 1) })
const manager = b.lab.manager
const project = join(b.lab.projectsRoot, b.instance, "bench")
mkdirSync(project, { recursive: true })
chownSync(project, 1000, 1000)

const claudy = async (args: ReadonlyArray<string>) => {
  const r = await b.claudy(args)
  if (r.code !== 0) throw new Error(`claudy ${args.join(" ")}: exited ${r.code}\n${r.stderr}`)
  return r
}
const lines = (s: string) => s.split("\n").filter(Boolean)
let markers = 0
const marker = (name: string) => `m-${name}-${++markers}-${process.pid}`
/** The session command: create the marker, then stay (a session that ended would be another figure). */
const command = (m: string) => ["sh", "-c", `touch /workspace/${m}; exec sleep 600`]

/**
 * Seconds from starting `start` (one process per marker, in order) until every marker of a process that did not fail
 * exists (polled every 2 ms), and how many failed. `tolerate`: failures are counted, else the first one throws.
 */
const timeToMarkers = async (what: string, ms_: ReadonlyArray<string>, start: () => Array<ReturnType<typeof Bun.spawn>>, tolerate = false) => {
  const t0 = performance.now()
  const procs = start()
  const pending = new Map(ms_.map((m, i) => [m, procs[i]!]))
  let failed = 0
  while (pending.size > 0) {
    for (const [m, p] of pending) {
      if (existsSync(join(project, m))) pending.delete(m)
      else if (p.exitCode !== null && p.exitCode !== 0) {
        if (!tolerate) throw new Error(`${what}: a process exited ${p.exitCode}`)
        pending.delete(m)
        failed++
      }
    }
    if (performance.now() - t0 > 180_000) throw new Error(`${what}: ${pending.size} command(s) did not run within 180 s`)
    await Bun.sleep(2)
  }
  const seconds = (performance.now() - t0) / 1000
  const codes = await Promise.all(procs.map((p) => p.exited))
  if (!tolerate && codes.some((c) => c !== 0)) throw new Error(`${what}: a process exited non-zero`)
  return { seconds, failed }
}
const env = { ...process.env, ...b.env } as Record<string, string>
const spawnClaudy = (m: string, extra: ReadonlyArray<string> = []) =>
  Bun.spawn([join(ROOT, "dist/claudy"), "--via-parent", "-d", "--new", ...extra, project, "--", ...command(m)], { env, stdout: "ignore", stderr: "inherit" })

/** Remove this run's sessions and baseline services (untimed, between runs); warm workers stay unless asked. */
const removeSessions = async (warmToo = false) => {
  const filter = ["--filter", `label=io.hal9000.instance=${b.instance}`]
  const ids = [
    ...lines((await dockerAt(manager, "service", "ls", "-q", ...filter, "--filter", "label=io.hal9000.session")).stdout),
    ...(warmToo ? lines((await dockerAt(manager, "service", "ls", "-q", ...filter, "--filter", "label=io.hal9000.warm")).stdout) : [])
  ]
  if (ids.length > 0) await dockerAt(manager, "service", "rm", ...new Set(ids))
  // and wait until their containers are gone from the nodes: the next run starts on a quiet lab
  const label = ["--filter", `label=io.hal9000.instance=${b.instance}`, "--filter", warmToo ? "label=io.hal9000.role" : "label=io.hal9000.session"]
  for (const t0 = Date.now(); Date.now() - t0 < 60_000; await Bun.sleep(100)) {
    let left = 0
    for (const host of Object.values(b.lab.nodes)) left += lines((await dockerAt(host, "ps", "-aq", ...label)).stdout).length
    if (left <= (warmToo ? 1 : 0)) return // the parent's container stays
  }
}

const served = () =>
  lines(existsSync(join(b.home, "pool", "spawns.log")) ? readFileSync(join(b.home, "pool", "spawns.log"), "utf8") : "").map(
    (l) => JSON.parse(l) as { served: "warm" | "cold" }
  )

const rows: Array<Row> = []
const compare = (figure: string, c: Stat, base: Stat, baseName: string, target?: number) => {
  rows.push(comparedRow(figure, c, base, baseName, target))
}

try {
  await claudy(["daemon", "start"])

  // The spec the baseline copies: a cold session's, as the manager holds it.
  const first = marker("spec")
  await timeToMarkers("the first cold spawn", [first], () => [spawnClaudy(first)])
  const specId = lines((await dockerAt(manager, "service", "ls", "-q", "--filter", `label=io.hal9000.instance=${b.instance}`, "--filter", "label=io.hal9000.session")).stdout)[0]!
  const spec = JSON.parse((await dockerAt(manager, "service", "inspect", specId)).stdout)[0].Spec as InspectedSpec
  await removeSessions()
  let baseN = 0
  const spawnBase = (m: string) => {
    const name = `${b.instance}-base-${++baseN}`
    return Bun.spawn(["docker", "service", "create", ...serviceCreateArgs(spec, name, { "io.hal9000.session": `base-${baseN}` }, command(m))], {
      env: { ...process.env, DOCKER_HOST: manager },
      stdout: "ignore",
      stderr: "inherit"
    })
  }

  // --- cold spawn vs docker service create of the same spec; warm claim vs cold spawn: alternating runs, one warm-up
  const times = { base: [] as Array<number>, cold: [] as Array<number>, warm: [] as Array<number> }
  const servedBefore = served().length
  for (let i = 0; i < RUNS + 1; i++) {
    const m1 = marker("base")
    const tb = (await timeToMarkers("docker service create", [m1], () => [spawnBase(m1)])).seconds
    await removeSessions()
    const m2 = marker("cold")
    const tc = (await timeToMarkers("cold spawn", [m2], () => [spawnClaudy(m2)])).seconds
    await removeSessions()
    await claudy(["pool", "warm", project]) // one warm worker of the shape, ready (untimed)
    const m3 = marker("warm")
    const tw = (await timeToMarkers("warm claim", [m3], () => [spawnClaudy(m3)])).seconds
    await removeSessions(true)
    if (i > 0) {
      times.base.push(tb)
      times.cold.push(tc)
      times.warm.push(tw)
    }
  }
  const warmRuns = served().slice(servedBefore).filter((_, i) => i % 2 === 1)
  const base = statsOf(times.base)
  const cold = statsOf(times.cold)
  const warm = statsOf(times.warm)
  compare("cold spawn on the swarm → session command running", cold, base, "`docker service create` of the same spec → command running", 1.3)
  compare("warm claim on the swarm → session command running", warm, cold, "cold spawn on the swarm → command running", 0.3)

  // --- 20 concurrent spawns: with 5 warm workers, with none, and 20 parallel `docker service create`
  const bursts = { warm: [] as Array<number>, cold: [] as Array<number>, base: [] as Array<number> }
  const failures = { warm: 0, cold: 0, base: 0 }
  const burst = async (kind: keyof typeof bursts, what: string, spawnOne: (m: string) => ReturnType<typeof Bun.spawn>) => {
    const ms_ = Array.from({ length: BURST }, () => marker(`burst-${kind}`))
    const r = await timeToMarkers(what, ms_, () => ms_.map(spawnOne), true)
    bursts[kind].push(r.seconds)
    failures[kind] += r.failed
  }
  const servedBurst: Array<number> = []
  for (let i = 0; i < 2; i++) {
    await claudy(["pool", "scale", String(BURST_WARM)])
    await claudy(["pool", "warm", project])
    await claudy(["pool", "warm"])
    const before = served().length
    await burst("warm", "20 spawns, 5 warm", (m) => spawnClaudy(m))
    servedBurst.push(served().slice(before).filter((e) => e.served === "warm").length)
    await removeSessions(true)
    await claudy(["pool", "scale", "0"])
    await burst("cold", "20 spawns, none warm", (m) => spawnClaudy(m))
    await removeSessions(true)
    await burst("base", "20 docker service create", (m) => spawnBase(m))
    await removeSessions(true)
  }
  const burstRow = (figure: string, xs: ReadonlyArray<number>, failed: number, note: string) => {
    const c = statsOf(xs)
    const base = statsOf(bursts.base)
    rows.push({
      figure,
      claudy: `${c.median.toFixed(2)} s (${(BURST / c.median).toFixed(1)} /s; ${xs.map((x) => x.toFixed(2)).join(", ")} s), ${failed} failed${note}`,
      baseline: `${BURST} parallel \`docker service create\` of the same spec: ${base.median.toFixed(2)} s (${bursts.base.map((x) => x.toFixed(2)).join(", ")} s), ${failures.base} failed`,
      ratio: `${(c.median / base.median).toFixed(2)}×`,
      target: "reported",
      met: undefined
    })
  }
  burstRow(`${BURST} concurrent spawns, ${BURST_WARM} warm workers → all commands running`, bursts.warm, failures.warm, `; served warm: ${servedBurst.join(", ")} of ${BURST_WARM}`)
  burstRow(`${BURST} concurrent spawns, none warm → all commands running`, bursts.cold, failures.cold, "")

  const commit = (await run(["git", "rev-parse", "--short=12", "HEAD"], {}, ROOT)).stdout.trim()
  const nodes = Object.keys(b.lab.nodes).length
  const section = `${SWARM_BEGIN}
## Swarm (the lab: ${nodes} nodes on one machine)

Measured by \`make bench-swarm\` (test/bench/swarm.ts) on ${new Date().toISOString().slice(0, 10)}, commit ${commit}, on the lab of
scripts/swarm-lab (one manager and ${nodes - 1} workers, each a dockerd in its own network namespace, on the same ${cpus().length} cores and
${Math.round(totalmem() / 2 ** 30)} GiB as everything else): ${RUNS} timed runs per figure after one warm-up, the three single-spawn figures
alternating run by run, so all see the same drift of the lab's speed. Median (± standard deviation); ratios compare medians.

| figure | claudy | baseline | ratio | target | met |
|---|---|---|---|---|---|
${tableRows(rows)}

Warm runs served warm: ${warmRuns.filter((e) => e.served === "warm").length} of ${warmRuns.length} (warm-up included).

- *→ session command running*: from starting the command until the session's command has created a marker file in
  the project (polled every 2 ms on the host, where the lab's projects root is). \`claudy -d\` has returned by then or
  is about to; \`docker service create -d\` returns before anything is scheduled, so process exits are not compared.
- *cold spawn*: \`claudy --via-parent -d --new PROJECT -- sh -c 'touch MARKER; exec sleep 600'\` with no warm worker:
  the checks (manager, nodes, parent service, the session name, the project probed on the nodes' engines), the
  service create, the wait for its task to run, then the hand-off on the worker's stdin through its node's engine
  (after the entrypoint's start-up: the localhost forwarder and the MCP registration, then its ready line).
- *baseline*: \`docker service create\` of the spec claudy created for a cold session (read back with \`docker service
  inspect\`: image by id, labels, user, environment, mounts, capabilities, limits, restart policy, placement, network,
  endpoint mode), without the stdin hand-off (the same entrypoint runs the command after its own start-up) and
  without OpenStdin, which the CLI has no flag for.
- *warm claim*: the same command with one warm worker of that shape ready (\`claudy pool warm\`, untimed): the free warm
  services read, one label-only update at the version read (the compare-and-swap), the hand-off on its stdin.
- *${BURST} concurrent spawns*: ${BURST} \`claudy --via-parent -d --new\` started at once until all ${BURST} commands run, ${BURST_WARM} warm workers
  waiting (${BURST_WARM} claims win, the other spawns lose theirs or find none left and go cold) or none; a spawn that
  fails is counted (the time is until every command of the others runs); against ${BURST} parallel \`docker service create\`.
  Two bursts each.
${SWARM_END}`
  const file = join(ROOT, "docs", "BENCHMARKS.md")
  writeFileSync(file, withSwarmSection(readFileSync(file, "utf8"), section))
  console.log(section)
} finally {
  await b.claudy(["pool", "stop"])
  await removeSessions(true).catch(() => undefined)
  await b.cleanup()
  rmSync(join(b.lab.projectsRoot, b.instance), { recursive: true, force: true })
}
