import { Args, Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { spawn } from "node:child_process"
import { closeSync, openSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { Settings } from "../config/Settings.ts"
import { StateError, UsageError } from "../domain/errors.ts"
import { lastLines } from "../docker/logStream.ts"
import { addProjects, managerLog, pidFile, writeTarget } from "../pool/files.ts"
import { poolStatus } from "../pool/status.ts"
import { runManager } from "../pool/manager.ts"
import { runningManager, stopManager } from "../pool/pidFile.ts"
import { pollUntil } from "../pool/pollUntil.ts"
import { Pool } from "../pool/Pool.ts"
import { resolveProject } from "../spawn/projectPath.ts"
import { ensureHome } from "../state/home.ts"
import { readLock } from "../state/lockFile.ts"
import { jsonOption, printJson, setOption, table, withExamples } from "./common.ts"
import { withSet } from "./services.ts"

/** How to run this same claudy again: the compiled binary, or the runtime plus the entry script. */
const selfCommand = (): Array<string> => {
  const script = process.argv[1] ?? ""
  if (script.startsWith("/$bunfs")) return [process.execPath]
  if ("Deno" in globalThis) return [process.execPath, "run", "-A", "--node-modules-dir=manual", script]
  return [process.execPath, script]
}

/** Start the manager detached (logs to HAL9000_HOME/logs/pool-manager.log); a live one is left alone. */
export const startManager = Effect.gen(function* () {
  const { settings } = yield* Settings
  yield* ensureHome(settings)
  const file = pidFile(settings.home)
  const current = yield* runningManager(file)
  if (current.alive) return { pid: current.pid!, started: false }
  const log = managerLog(settings.home)
  const [cmd, ...args] = selfCommand()
  const child = yield* Effect.try({
    try: () => {
      const fd = openSync(log, "a", 0o600)
      const c = spawn(cmd!, [...args, "pool", "run"], { detached: true, stdio: ["ignore", fd, fd], env: process.env })
      closeSync(fd)
      c.unref()
      return c
    },
    catch: (e) => new StateError({ path: log, operation: "start the pool manager, logging to", detail: String(e) })
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
  return { pid, started: true }
})

const start = Command.make("start", { set: setOption }, ({ set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const { settings } = yield* Settings
      const r = yield* startManager
      yield* Console.log(
        r.started
          ? `Pool manager started (pid ${r.pid}); log: ${managerLog(settings.home)}`
          : `Pool manager is already running (pid ${r.pid})`
      )
    })
  )
).pipe(
  Command.withDescription(
    withExamples("Start the pool manager in the background (pid file and log under HAL9000_HOME)", [
      ["claudy pool start", "keep MIN_WARM_WORKERS warm workers ready (a second start says it is already running)"],
      ["MIN_WARM_WORKERS=2 IDLE_TIMEOUT=600 claudy pool start", "two warm workers, idle ones reaped after 10 minutes"],
      ["claudy pool warm ~/src/app && claudy pool start", "keep ~/src/app warm: its next spawn takes a worker at once"]
    ])
  )
)

const stop = Command.make("stop", { set: setOption }, ({ set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const { settings } = yield* Settings
      const file = pidFile(settings.home)
      const r = yield* stopManager(file, "SIGTERM")
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

const runCmd = Command.make("run", { set: setOption }, ({ set }) => withSet(set, runManager)).pipe(
  Command.withDescription("Run the pool manager in the foreground (what `pool start` detaches)")
)

const status = Command.make("status", { json: jsonOption, set: setOption }, ({ json, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const report = yield* poolStatus
      if (json) return yield* printJson(report)
      const m = report.manager
      yield* Console.log(
        [
          table([
            ["Manager:", m.running ? `running (pid ${m.pid}, up ${m.uptime_seconds}s, ${m.loops} passes, last ${m.last_loop_at ?? "never"})` : "not running (claudy pool start)"],
            ...(m.last_error ? [["Last error:", m.last_error]] : []),
            ["Config:", `target ${report.config.target} (MIN ${report.config.min_warm_workers}, MAX ${report.config.max_warm_workers}), IDLE_TIMEOUT ${report.config.idle_timeout}s, CHECK_INTERVAL ${report.config.check_interval}s`],
            ["Workers:", `${report.workers.warm} warm: ${report.workers.idle} idle, ${report.workers.claimed} claimed`],
            ["Hit rate:", report.hit_rate.spawns === 0 ? "no spawns yet" : `${report.hit_rate.warm}/${report.hit_rate.spawns} spawns served warm (${Math.round((report.hit_rate.rate ?? 0) * 100)}%)`],
            ["Projects:", report.projects.length === 0 ? "none yet: claudy pool warm PATH" : report.projects.join(", ")]
          ]),
          ...(report.specs.length > 0 ? ["", table([["PROJECT", "SPEC", "IDLE", "CLAIMED"], ...report.specs.map((r) => [r.project, r.spec, String(r.idle), String(r.claimed)])])] : [])
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
      const removed = yield* (yield* Pool).trimTo(n)
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
      const n = yield* (yield* Pool).cleanup
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
        yield* ensureHome(settings)
        const dirs = yield* Effect.forEach(paths, (p) =>
          Effect.map(resolveProject(p, process.cwd(), { userHome: homedir(), halHome: settings.home }), (r) => r.dir)
        )
        if (dirs.length > 0) yield* addProjects(settings.home, dirs)
        const port = yield* pool.parentPort
        if (Option.isNone(port)) {
          return yield* Console.log(
            `${dirs.length > 0 ? `Registered ${dirs.join(", ")}; ` : ""}the parent is not running, so no warm worker was created (claudy daemon start)`
          )
        }
        const idle = (yield* pool.observe).filter((w) => w.claimedBy === undefined && w.running).length
        const room = Math.max(0, settings.maxWarmWorkers - idle)
        const created = yield* Effect.forEach(dirs.slice(0, room), (d) => pool.createWarm(d, port.value), { concurrency: 4 })
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
