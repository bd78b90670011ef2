/**
 * `claudy daemon run`: the foreground supervisor a systemd unit starts. It binds its health and metrics server, ensures
 * the parent (like `daemon start`, applying the current settings), tells systemd it is ready once ChromaDB answers,
 * then watches the parent: at once on the engine's events for it (die, oom, destroy: a `docker kill` is back in under a
 * second) and every HAL9000_WATCHDOG_INTERVAL seconds as a fallback, restarting it with backoff behind a circuit
 * breaker; it runs the pool loop when ENABLE_POOL_MANAGER=true. Everything is a fiber in one scope: SIGTERM interrupts
 * them, sessions keep running, and the process exits 0.
 */
import { Duration, Effect, Logger, Queue, Ref } from "effect"
import { execFile } from "node:child_process"
import { appendFileSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { Settings } from "../config/Settings.ts"
import { parentName } from "../domain/names.ts"
import { Engine } from "../docker/Engine.ts"
import { followEvents } from "../docker/events.ts"
import { keepSettings, keptUpdates } from "../config/kept.ts"
import { healthServer } from "../observe/health.ts"
import { normalJitPolicy } from "../observe/jitPolicy.ts"
import { runManager } from "../pool/manager.ts"
import { activeMaintenance } from "../ops/maintenance.ts"
import { ensureHome } from "../state/home.ts"
import { Parent } from "./Parent.ts"
import { probeParent } from "./probe.ts"
import { SUPERVISOR_LOG } from "./supervisorLog.ts"
import { afterRestart, initialWatchdog, type Observation, observe } from "./watchdog.ts"

/** sd_notify through systemd-notify (Node and Bun have no unix datagram sockets); the unit sets NotifyAccess=all. */
const notifySystemd = (status: string) =>
  Effect.async<void>((resume) => {
    if (!process.env.NOTIFY_SOCKET) return resume(Effect.void)
    execFile("systemd-notify", ["--ready", `--status=${status}`], () => resume(Effect.void))
  })

/** The supervisor's log also goes to HAL9000_HOME/logs/supervisor.log (for the debug bundle). */
const fileLogger = (home: string) =>
  Logger.make(({ logLevel, message, date }) => {
    const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
    try {
      mkdirSync(join(home, "logs"), { recursive: true, mode: 0o700 })
      appendFileSync(join(home, "logs", SUPERVISOR_LOG), `${date.toISOString()} ${logLevel.label} ${text}\n`, { mode: 0o600 })
    } catch {
      // a full disk must not stop the supervisor
    }
  })

/** The parent's events that mean it is gone or going: each wakes the watchdog at once. */
const PARENT_EVENTS = ["die", "oom", "destroy"]

export const supervise = Effect.gen(function* () {
  const { settings, sources } = yield* Settings
  const parent = yield* Parent
  const engine = yield* Engine
  yield* ensureHome(settings)
  const watchdog = yield* Ref.make(initialWatchdog)

  // Bound first: a supervisor that cannot serve /health fails here, before anything is started or reported ready.
  if (settings.httpAddr !== null) yield* healthServer(watchdog)

  const first = yield* parent.start({ recreate: true })
  // The service's worker and pool settings are every later command's defaults, as with `daemon start`.
  yield* keepSettings(settings.home, keptUpdates(sources), "daemon run")
  yield* Effect.logInfo(`parent ${first.container} ${first.outcome}; ChromaDB ready on 127.0.0.1:${first.port}`)
  yield* notifySystemd(`ChromaDB ready on 127.0.0.1:${first.port}`)
  yield* normalJitPolicy

  if (settings.enablePoolManager) {
    yield* Effect.forkScoped(
      runManager("daemon run").pipe(
        Effect.catchAll((e) => Effect.logWarning(`pool loop not started: ${e.message} (is \`claudy pool start\` running?)`))
      )
    )
  }

  // The engine's events for the parent wake the watchdog; a sliding queue of one: a burst of events is one check.
  const wake = yield* Queue.sliding<string>(1)
  yield* Effect.forkScoped(
    followEvents(
      engine.address,
      { type: ["container"], container: [parentName(settings.instance)], event: PARENT_EVENTS },
      (e) => Queue.offer(wake, e.action === "connected" ? "engine events connected" : `parent ${e.action} (engine event)`)
    )
  )

  const check = (reason: string) => Effect.gen(function* () {
    if (reason !== "poll") yield* Effect.logInfo(`${reason}: checking the parent now`)
    const busy = yield* activeMaintenance(settings.home)
    if (busy) return yield* Effect.logInfo(`${busy.note} in progress (pid ${busy.pid}): not checking the parent`)
    // The light probe under its deadline: a stuck engine costs this tick 2 s, and a restart cannot work without an
    // engine, so none is attempted (the restart policy brings the parent back with the engine); the ticks go on.
    const probe = yield* probeParent
    if (probe.state === "unknown") return yield* Effect.logWarning(`engine not answering: ${probe.error} (not checking the parent)`)
    const o: Observation = probe.state !== "running" ? "down" : probe.healthy ? "healthy" : "unhealthy"
    const before = yield* Ref.get(watchdog)
    const { restart, state } = observe(before, o, Date.now())
    yield* Ref.set(watchdog, state)
    if (state.circuit !== before.circuit) yield* Effect.logWarning(`restart circuit ${before.circuit} -> ${state.circuit}`)
    if (o !== "healthy") yield* Effect.logWarning(`parent ${o}${probe.error ? `: ${probe.error}` : ""}`)
    if (!restart) return
    yield* Effect.logWarning(`restarting the parent (attempt after ${state.failures} failures)`)
    const ok = yield* parent.stop.pipe(
      Effect.zipRight(parent.start({ recreate: true })),
      Effect.as(true),
      Effect.catchAll((e) => Effect.as(Effect.logError(`restart failed: ${e.message}`), false))
    )
    const after = afterRestart(yield* Ref.get(watchdog), ok, Date.now())
    yield* Ref.set(watchdog, after)
    if (ok) yield* Effect.logInfo("parent restarted; ChromaDB answers")
    else if (after.circuit === "open") yield* Effect.logError(`restart circuit open after ${after.failures} failures: next trial in 30 s`)
  })
  // Check, then wait for an event or the poll interval, whichever comes first.
  const nextReason = Effect.raceFirst(Queue.take(wake), Effect.as(Effect.sleep(Duration.seconds(settings.watchdogInterval)), "poll"))
  let reason = "poll"
  return yield* Effect.forever(
    Effect.gen(function* () {
      yield* check(reason)
      reason = yield* nextReason
    })
  )
}).pipe(
  Effect.scoped,
  Effect.annotateLogs({ service: "supervisor" }),
  (e) =>
    Effect.flatMap(Settings, ({ settings }) => Effect.provide(e, Logger.add(fileLogger(settings.home))))
)
