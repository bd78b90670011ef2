/**
 * The pool manager loop (`claudy pool run`, and what `pool start` detaches): observe -> plan -> act every
 * CHECK_INTERVAL (Schedule.spaced), in a scope, so SIGTERM interrupts it between steps and the pid file goes.
 * A failed pass is logged and kept as `last_error`; the loop goes on.
 */
import { Cause, Duration, Effect, Schedule } from "effect"
import { Settings } from "../config/Settings.ts"
import { Engine } from "../docker/Engine.ts"
import { requireLocalEngine } from "../docker/localEngine.ts"
import { normalJitPolicy } from "../observe/jitPolicy.ts"
import { ensureHome } from "../state/home.ts"
import { pidFile, type ManagerState, writeState } from "./files.ts"
import { acquirePidFile, type ManagerKind } from "./pidFile.ts"
import type { PoolAction } from "./plan.ts"
import { Pool } from "./Pool.ts"
import { managerConfigOf } from "./status.ts"

/** `kind`: the detached manager (`pool run`) or the supervisor's own loop (`daemon run`), recorded in its state. */
export const runManager = (kind: ManagerKind) => Effect.gen(function* () {
  const { settings } = yield* Settings
  const pool = yield* Pool
  // On a swarm the pass works on the manager's services (and needs no local engine); on one host, on its containers.
  const swarm = settings.backend === "swarm" ? yield* Effect.flatMap(Effect.promise(() => import("../swarm/pool.ts")), (m) => m.swarmPool) : undefined
  if (swarm === undefined) yield* requireLocalEngine((yield* Engine).address, "the pool manager")
  yield* ensureHome(settings)
  yield* acquirePidFile(pidFile(settings.home))
  yield* normalJitPolicy
  let state: ManagerState = {
    pid: process.pid,
    started_at: new Date().toISOString(),
    last_loop_at: null,
    last_error: null,
    loops: 0,
    kind,
    config: managerConfigOf(settings)
  }
  yield* writeState(settings.home, state)
  yield* Effect.logInfo(
    `pool manager started (pid ${process.pid}): MIN ${settings.minWarmWorkers}, MAX ${settings.maxWarmWorkers}, ` +
      `IDLE_TIMEOUT ${settings.idleTimeout}s, CHECK_INTERVAL ${settings.checkInterval}s`
  )
  yield* Effect.addFinalizer(() => Effect.logInfo("pool manager stopping"))

  const reconcile: Effect.Effect<{ readonly actions: ReadonlyArray<PoolAction>; readonly parentRunning: boolean; readonly projects: ReadonlyArray<string> }, unknown> =
    swarm?.reconcile ?? pool.reconcile()
  const pass = reconcile.pipe(
    Effect.tap(({ actions, parentRunning, projects }) =>
      Effect.gen(function* () {
        for (const a of actions) yield* Effect.logInfo(a._tag === "create" ? `warm worker created for ${a.project}` : a._tag === "remove" ? `warm worker ${a.id.slice(0, 12)} removed (${a.reason})` : `session ${a.session} adopted`)
        if (!parentRunning) yield* Effect.logWarning("the parent is not running: no warm workers can be created (claudy daemon start)")
        if (projects.length === 0) yield* Effect.logDebug("no projects to keep warm yet (claudy pool warm PATH)")
      })
    ),
    Effect.matchCauseEffect({
      onFailure: (cause) => {
        const error = Cause.pretty(cause).split("\n")[0] ?? "unknown error"
        state = { ...state, last_loop_at: new Date().toISOString(), last_error: error, loops: state.loops + 1 }
        return Effect.zipRight(Effect.logError(`pool pass failed: ${error}`), writeState(settings.home, state).pipe(Effect.ignore))
      },
      onSuccess: () => {
        state = { ...state, last_loop_at: new Date().toISOString(), last_error: null, loops: state.loops + 1 }
        return writeState(settings.home, state).pipe(Effect.ignore)
      }
    })
  )
  return yield* pass.pipe(Effect.repeat(Schedule.spaced(Duration.seconds(settings.checkInterval))))
}).pipe(Effect.scoped, Effect.annotateLogs({ service: "pool-manager" }))
