/** What `pool status` reports (also in the debug bundle and the supervisor's metrics). */
import { Effect } from "effect"
import { Settings } from "../config/Settings.ts"
import { pidFile, readSpawns, readState, readTarget } from "./files.ts"
import { runningManager } from "./pidFile.ts"
import { Pool } from "./Pool.ts"

export const poolStatus = Effect.gen(function* () {
  const { settings } = yield* Settings
  const pool = yield* Pool
  const home = settings.home
  const [{ pid, alive }, state, target, observed, spawns, projects] = yield* Effect.all([
    runningManager(pidFile(home)),
    readState(home),
    readTarget(home),
    pool.observe,
    readSpawns(home),
    pool.knownProjects
  ])
  const since = alive && state ? state.started_at : undefined
  const counted = since ? spawns.filter((s) => s.at >= since) : spawns
  const warmHits = counted.filter((s) => s.served === "warm").length
  const bySpec = new Map<string, { project: string; spec: string; idle: number; claimed: number }>()
  for (const w of observed) {
    const row = bySpec.get(w.spec) ?? { project: w.project, spec: w.spec, idle: 0, claimed: 0 }
    if (w.claimedBy === undefined && w.running) row.idle++
    else if (w.claimedBy !== undefined) row.claimed++
    bySpec.set(w.spec, row)
  }
  const idle = [...bySpec.values()].reduce((n, r) => n + r.idle, 0)
  const claimed = [...bySpec.values()].reduce((n, r) => n + r.claimed, 0)
  return {
    manager: {
      running: alive,
      pid: alive ? pid : null,
      uptime_seconds: alive && state ? Math.round((Date.now() - Date.parse(state.started_at)) / 1000) : null,
      last_loop_at: state?.last_loop_at ?? null,
      last_error: state?.last_error ?? null,
      loops: state?.loops ?? 0
    },
    config: {
      min_warm_workers: settings.minWarmWorkers,
      max_warm_workers: settings.maxWarmWorkers,
      target: Math.min(target ?? settings.minWarmWorkers, settings.maxWarmWorkers),
      idle_timeout: settings.idleTimeout,
      check_interval: settings.checkInterval
    },
    workers: { warm: observed.length, idle, claimed },
    specs: [...bySpec.values()],
    projects,
    hit_rate: { since: since ?? null, warm: warmHits, spawns: counted.length, rate: counted.length === 0 ? null : warmHits / counted.length }
  }
})
