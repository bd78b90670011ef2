import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { spawn } from "node:child_process"
import { closeSync, openSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { invocation } from "../config/invocation.ts"
import { Settings } from "../config/Settings.ts"
import { PoolLoopSupervised, StateError, UsageError } from "../domain/errors.ts"
import { Engine } from "../docker/Engine.ts"
import { requireLocalEngine } from "../docker/localEngine.ts"
import { lastLines } from "../docker/logStream.ts"
import { addProjects, managerLog, pidFile, readState, writeTarget } from "../pool/files.ts"
import { managerConfigOf, poolStatus } from "../pool/status.ts"
import { runManager } from "../pool/manager.ts"
import { runningManager, stopManager } from "../pool/pidFile.ts"
import { pollUntil } from "../pool/pollUntil.ts"
import { Pool } from "../pool/Pool.ts"
import { resolveProject } from "../spawn/projectPath.ts"
import { fsError } from "../state/hostFile.ts"
import { ensureHome } from "../state/home.ts"
import { readLock } from "../state/lockFile.ts"
import { duration, jsonOption, parseSetFlags, printJson, setOption, table, withExamples } from "./common.ts"
import { withServices, withSet } from "./services.ts"

/** The swarm's pool (HAL9000_BACKEND=swarm), loaded only there: it is no part of a local pool command's start-up. */
const swarmPool = Effect.flatMap(
  Effect.promise(() => import("../swarm/pool.ts")),
  (m) => m.swarmPool
)

/** How to run this same claudy again: the compiled binary, or the runtime plus the entry script. */
const selfCommand = (): Array<string> => {
  const script = process.argv[1] ?? ""
  if (script.startsWith("/$bunfs")) return [process.execPath]
  if ("Deno" in globalThis) return [process.execPath, "run", "-A", "--node-modules-dir=manual", script]
  return [process.execPath, script]
}

/**
 * Start the manager detached (logs to HAL9000_HOME/logs/pool-manager.log), with this run's environment and its flag
 * settings (`--set`, `pool start --min-warm …`) passed on as `--set`; a live one is left alone.
 */
export const startManager = Effect.gen(function* () {
  const { settings, sources } = yield* Settings
  // on a swarm the manager works through DOCKER_HOST's manager, which must be one (checked before it is started)
  if (settings.backend === "swarm") yield* swarmPool
  else yield* requireLocalEngine((yield* Engine).address, "the pool manager")
  yield* ensureHome(settings)
  const file = pidFile(settings.home)
  const current = yield* runningManager(file)
  if (current.alive) return { pid: current.pid!, started: false, kind: current.kind }
  const log = managerLog(settings.home)
  const [cmd, ...args] = selfCommand()
  const setFlags = sources.filter((s) => s.source === "flag").flatMap((s) => ["--set", `${s.name}=${s.raw}`])
  const child = yield* Effect.try({
    try: () => {
      const fd = openSync(log, "a", 0o600)
      const c = spawn(cmd!, [...args, "pool", "run", ...setFlags], { detached: true, stdio: ["ignore", fd, fd], env: process.env })
      closeSync(fd)
      c.unref()
      return c
    },
    catch: fsError(log, "start the pool manager, logging to")
  })
  const pid = child.pid ?? 0
  const up = yield* pollUntil(() => readLock(file)?.pid === pid, 10_000, 50)
  if (!up) {
    const tail = (() => {
      try {
        return lastLines(readFileSync(log, "utf8"), 10).join("\n  ")
      } catch {
        return ""
      }
    })()
    return yield* new StateError({ path: file, operation: "start the pool manager; no pid in", detail: `it did not come up within 10 s. Log:\n  ${tail}` })
  }
  return { pid, started: true, kind: "pool run" as const }
})

/**
 * A detached manager with this run's settings: started when none runs, restarted when the one running works with
 * other settings (`ENABLE_POOL_MANAGER=true MIN_WARM_WORKERS=3 claudy daemon start` on a running pool). The pool loop
 * of `daemon run` is left as it is (its settings are the service's).
 */
export const ensureManager = Effect.gen(function* () {
  const { settings } = yield* Settings
  const file = pidFile(settings.home)
  const current = yield* runningManager(file)
  if (current.alive && current.kind === "pool run") {
    const state = yield* readState(settings.home)
    const differs = state?.pid === current.pid && JSON.stringify(state?.config) !== JSON.stringify(managerConfigOf(settings))
    if (differs) {
      const stopped = yield* stopManager(file, "SIGTERM")
      if (stopped._tag === "stuck") {
        return yield* new StateError({ path: file, operation: "restart the pool manager of", detail: `pid ${stopped.pid} did not exit within 15 s of SIGTERM` })
      }
      return { ...(yield* startManager), restarted: true }
    }
  }
  return { ...(yield* startManager), restarted: false }
})

/** `pool start --min-warm N …`: the guide's flags, as settings of this run (and of the manager it starts). */
const poolFlags = {
  minWarm: Options.integer("min-warm").pipe(Options.optional, Options.withDescription("MIN_WARM_WORKERS for this manager")),
  maxWarm: Options.integer("max-warm").pipe(Options.optional, Options.withDescription("MAX_WARM_WORKERS for this manager")),
  idleTimeout: Options.integer("idle-timeout").pipe(Options.optional, Options.withDescription("IDLE_TIMEOUT (seconds) for this manager")),
  checkInterval: Options.integer("check-interval").pipe(Options.optional, Options.withDescription("CHECK_INTERVAL (seconds) for this manager"))
}
const POOL_FLAG_SETTINGS = {
  minWarm: "MIN_WARM_WORKERS",
  maxWarm: "MAX_WARM_WORKERS",
  idleTimeout: "IDLE_TIMEOUT",
  checkInterval: "CHECK_INTERVAL"
} as const

const start = Command.make("start", { ...poolFlags, set: setOption }, ({ set, ...given }) =>
  Effect.gen(function* () {
    const flags = { ...(yield* parseSetFlags(set)) }
    for (const [key, name] of Object.entries(POOL_FLAG_SETTINGS)) {
      const v = given[key as keyof typeof POOL_FLAG_SETTINGS]
      if (Option.isSome(v)) flags[name] = String(v.value)
    }
    return yield* withServices(flags)(
      Effect.gen(function* () {
        const { settings } = yield* Settings
        const r = yield* startManager
        yield* Console.log(
          r.started
            ? `Pool manager started (pid ${r.pid}); log: ${managerLog(settings.home)}`
            : `Pool manager is already running (pid ${r.pid}${r.kind === "daemon run" ? ", the pool loop of claudy daemon run" : ""}); its settings: claudy pool status`
        )
      })
    )
  })
).pipe(
  Command.withDescription(
    withExamples(
      "Start the pool manager in the background (pid file and log under HAL9000_HOME); --min-warm/--max-warm/--idle-timeout/--check-interval set MIN_WARM_WORKERS, MAX_WARM_WORKERS, IDLE_TIMEOUT, CHECK_INTERVAL for it",
      [
        ["claudy pool start", "keep MIN_WARM_WORKERS warm workers ready (a second start says it is already running)"],
        ["claudy pool start --min-warm 2 --idle-timeout 600", "two warm workers, idle ones reaped after 10 minutes"],
        ["claudy pool warm ~/src/app && claudy pool start", "keep ~/src/app warm: its next spawn takes a worker at once"]
      ]
    )
  )
)

const stop = Command.make("stop", { set: setOption }, ({ set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const { settings } = yield* Settings
      const file = pidFile(settings.home)
      const r = yield* stopManager(file, "SIGTERM")
      if (r._tag === "supervised") return yield* new PoolLoopSupervised({ pid: r.pid })
      if (r._tag === "none") {
        return yield* Console.log(r.stalePid !== undefined ? `Pool manager is not running (removed stale pid file for ${r.stalePid})` : "Pool manager is not running")
      }
      if (r._tag === "stuck") {
        return yield* new StateError({ path: file, operation: "stop the pool manager of", detail: `pid ${r.pid} did not exit within 15 s of SIGTERM` })
      }
      yield* Console.log(`Pool manager stopped (pid ${r.pid})`)
    })
  )
).pipe(Command.withDescription("Stop the pool manager (SIGTERM, then wait); warm workers and sessions stay"))

const runCmd = Command.make("run", { set: setOption }, ({ set }) => withSet(set, runManager("pool run"))).pipe(
  Command.withDescription("Run the pool manager in the foreground (what `pool start` detaches)")
)

const status = Command.make("status", { json: jsonOption, set: setOption }, ({ json, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const { settings } = yield* Settings
      const report = settings.backend === "swarm" ? yield* (yield* swarmPool).status : yield* poolStatus
      if (json) return yield* printJson(report)
      const onSwarm = settings.backend === "swarm"
      const m = report.manager
      const c = report.config
      yield* Console.log(
        [
          table([
            [
              "Manager:",
              m.running
                ? `running (pid ${m.pid}${m.kind === "daemon run" ? ", inside claudy daemon run" : ""}, up ${m.uptime_seconds}s, ${m.loops} passes, last ${m.last_loop_at ?? "never"})`
                : "not running (claudy pool start)"
            ],
            ...(m.last_error ? [["Last error:", m.last_error]] : []),
            [
              "Config:",
              `target ${c.target} (MIN ${c.min_warm_workers}, MAX ${c.max_warm_workers}), IDLE_TIMEOUT ${c.idle_timeout}s, CHECK_INTERVAL ${c.check_interval}s (${c.source})`
            ],
            ["Worker limits:", `${c.worker_memory}, ${c.worker_cpus} cpus, ${c.worker_pids_limit} pids; image ${c.worker_image}`],
            ["Workers:", `${report.workers.warm} warm: ${report.workers.idle} idle, ${report.workers.claimed} claimed`],
            ["Hit rate:", report.hit_rate.spawns === 0 ? "no spawns yet" : `${report.hit_rate.warm}/${report.hit_rate.spawns} spawns served warm (${Math.round((report.hit_rate.rate ?? 0) * 100)}%)`],
            ["Projects:", report.projects.length === 0 ? "none yet: claudy pool warm PATH" : report.projects.join(", ")]
          ]),
          ...(report.specs.length > 0 ? ["", table([["PROJECT", "SPEC", "IDLE", "CLAIMED"], ...report.specs.map((r) => [r.project, r.spec, String(r.idle), String(r.claimed)])])] : []),
          ...(report.warm_workers.length > 0
            ? [
                "",
                table([
                  ["WARM WORKER", ...(onSwarm ? ["NODE"] : []), "STATE", "AGE", "LIMITS"],
                  ...report.warm_workers.map((w) => [w.name, ...(onSwarm ? [w.node ?? ""] : []), w.state, duration(w.age_seconds), w.limits])
                ])
              ]
            : [])
        ].join("\n")
      )
    })
  )
).pipe(Command.withDescription("Show the manager, the configuration, warm/idle/claimed workers per spec and the hit rate"))

const scale = Command.make("scale", { n: Args.integer({ name: "N" }), set: setOption }, ({ n, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const { settings } = yield* Settings
      if (n < 0 || n > settings.maxWarmWorkers) {
        return yield* new UsageError({
          detail: `pool scale ${n} is outside 0..MAX_WARM_WORKERS (${settings.maxWarmWorkers})`,
          fix: `choose N from 0 to ${settings.maxWarmWorkers}, or raise MAX_WARM_WORKERS`
        })
      }
      yield* ensureHome(settings)
      yield* writeTarget(settings.home, n)
      const removed = settings.backend === "swarm" ? yield* (yield* swarmPool).trimTo(n) : yield* (yield* Pool).trimTo(n)
      yield* Console.log(
        `Pool target set to ${n}${removed > 0 ? `; removed ${removed} idle warm worker(s)` : ""} (the manager creates missing ones on its next pass)`
      )
    })
  )
).pipe(Command.withDescription("Set how many warm workers to keep (persisted; read by the running manager)"))

const cleanup = Command.make("cleanup", { set: setOption }, ({ set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const { settings } = yield* Settings
      const n = settings.backend === "swarm" ? yield* (yield* swarmPool).cleanup : yield* (yield* Pool).cleanup
      yield* Console.log(`Removed ${n} idle warm worker(s); claimed ones (sessions) are untouched`)
    })
  )
).pipe(Command.withDescription("Remove idle warm workers now"))

const warm = Command.make(
  "warm",
  { paths: Args.text({ name: "PATH" }).pipe(Args.repeated), set: setOption },
  ({ paths, set }) =>
    withSet(
      set,
      Effect.gen(function* () {
        const { settings } = yield* Settings
        const pool = yield* Pool
        const { cwd } = yield* invocation
        if (settings.backend === "swarm") {
          const swarm = yield* swarmPool
          yield* ensureHome(settings)
          const { swarmProject } = yield* Effect.promise(() => import("../swarm/spawn.ts"))
          const dirs = yield* Effect.forEach(paths, (p) => Effect.map(swarmProject(p, cwd, settings.home), (r) => r.dir))
          if (dirs.length > 0) yield* addProjects(settings.home, dirs)
          const r = yield* swarm.warm(dirs)
          return yield* Console.log(
            !r.parentRunning
              ? `${dirs.length > 0 ? `Registered ${dirs.join(", ")}; ` : ""}the parent service is not running, so no warm worker was created (claudy daemon start)`
              : `Created ${r.made} warm worker(s)${r.capped ? ` (MAX_WARM_WORKERS ${settings.maxWarmWorkers} reached)` : ""}`
          )
        }
        yield* requireLocalEngine((yield* Engine).address, "a warm worker")
        yield* ensureHome(settings)
        const dirs = yield* Effect.forEach(paths, (p) =>
          Effect.map(resolveProject(p, cwd, { userHome: homedir(), halHome: settings.home }), (r) => r.dir)
        )
        if (dirs.length > 0) yield* addProjects(settings.home, dirs)
        const parent = yield* pool.currentParent
        if (Option.isNone(parent)) {
          return yield* Console.log(
            `${dirs.length > 0 ? `Registered ${dirs.join(", ")}; ` : ""}the parent is not running, so no warm worker was created (claudy daemon start)`
          )
        }
        const idle = (yield* pool.observe).filter((w) => w.claimedBy === undefined && w.running).length
        const room = Math.max(0, settings.maxWarmWorkers - idle)
        const created = yield* Effect.forEach(dirs.slice(0, room), (d) => pool.createWarm(d, parent.value), { concurrency: 4 })
        const pass = dirs.length === 0 ? yield* pool.reconcile() : undefined
        yield* pool.mirror
        const made = created.length + (pass?.actions.filter((a) => a._tag === "create").length ?? 0)
        yield* Console.log(`Created ${made} warm worker(s)${dirs.length > room ? ` (MAX_WARM_WORKERS ${settings.maxWarmWorkers} reached)` : ""}`)
      })
    )
).pipe(Command.withDescription("Keep these projects warm and create a warm worker for each now (no PATH: fill the pool now)"))

export const poolCommand = Command.make("pool").pipe(
  Command.withDescription("The warm pool of pre-started workers and its manager"),
  Command.withSubcommands([start, stop, status, scale, cleanup, warm, runCmd])
)
