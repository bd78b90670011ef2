/** What `pool status` reports (also in the debug bundle and the supervisor's metrics). */
import { Effect } from "effect"
import { Settings } from "../config/Settings.ts"
import type { Settings as SettingsValues } from "../config/variables.ts"
import { type ManagerConfig, pidFile, readSpawns, readState, readTarget } from "./files.ts"
import { runningManager } from "./pidFile.ts"
import { Pool } from "./Pool.ts"

/** The settings a manager works with (pure): written into its state at start, shown by `pool status`. */
export const managerConfigOf = (s: SettingsValues): ManagerConfig => ({
  min_warm_workers: s.minWarmWorkers,
  max_warm_workers: s.maxWarmWorkers,
  idle_timeout: s.idleTimeout,
  check_interval: s.checkInterval,
  worker_image: s.workerImage,
  worker_memory: s.workerMemory.raw,
  worker_cpus: s.workerCpus.raw,
  worker_pids_limit: s.workerPidsLimit
})

/** The pool's limits label (spawn/workerSpec.ts limitsLabel) as people write limits: "4g, 2 cpus, 100 pids". */
const limitsText = (label: string) => {
  try {
    const l = JSON.parse(label) as { enabled: boolean; memory: string | null; cpus: string | null; pids_limit: string | null }
    return l.enabled ? `${l.memory}, ${l.cpus} cpus, ${l.pids_limit} pids` : "no limits"
  } catch {
    return "unknown"
  }
}

/** A warm worker as the status shows it, on one host or on a swarm (`node`: the swarm node its task runs on). */
export interface StatusWorker {
  readonly name: string
  readonly project: string
  readonly spec: string
  readonly limits: string
  readonly running: boolean
  readonly claimedBy?: string | undefined
  readonly createdAtMs: number
  readonly node?: string | undefined
  /** what the state column says instead of stopped/idle/claimed (a swarm worker whose node is down) */
  readonly stateText?: string | undefined
}

/** The status over the warm workers `observe` finds (the local pool's containers, or a swarm's services). */
export const poolStatusOf = <E, R>(observe: Effect.Effect<ReadonlyArray<StatusWorker>, E, R>) => Effect.gen(function* () {
  const { settings } = yield* Settings
  const pool = yield* Pool
  const home = settings.home
  const [{ pid, alive, kind }, state, target, observed, spawns, projects] = yield* Effect.all([
    runningManager(pidFile(home)),
    readState(home),
    readTarget(home),
    observe,
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
  // A running manager's own configuration (what it acts on), else what one started now would use.
  const running = alive && state?.pid === pid ? state?.config : undefined
  const config = running ?? managerConfigOf(settings)
  const now = Date.now()
  return {
    manager: {
      running: alive,
      pid: alive ? pid : null,
      kind: alive ? kind : null,
      uptime_seconds: alive && state ? Math.round((now - Date.parse(state.started_at)) / 1000) : null,
      last_loop_at: state?.last_loop_at ?? null,
      last_error: state?.last_error ?? null,
      loops: state?.loops ?? 0
    },
    config: {
      source: running ? ("running manager" as const) : ("current settings" as const),
      ...config,
      target: Math.min(target ?? config.min_warm_workers, config.max_warm_workers)
    },
    workers: { warm: observed.length, idle, claimed },
    warm_workers: observed.map((w) => ({
      name: w.name,
      project: w.project,
      state: w.stateText !== undefined ? w.stateText : !w.running ? "stopped" : w.claimedBy === undefined ? "idle" : `claimed by ${w.claimedBy}`,
      age_seconds: Math.max(0, Math.round((now - w.createdAtMs) / 1000)),
      limits: limitsText(w.limits),
      ...(w.node !== undefined ? { node: w.node } : {})
    })),
    specs: [...bySpec.values()],
    projects,
    hit_rate: { since: since ?? null, warm: warmHits, spawns: counted.length, rate: counted.length === 0 ? null : warmHits / counted.length }
  }
})

export const poolStatus = Effect.flatMap(Pool, (pool) => poolStatusOf(pool.observe))
