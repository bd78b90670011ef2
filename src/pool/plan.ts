/**
 * What the pool manager should do, from what it observed (pure). Claimed workers are sessions (adopted: renamed and
 * recorded); dead unclaimed ones are removed, and so are idle ones that joined an earlier run of the parent (their
 * network namespace is gone: a restart, backup, restore or watchdog restart); idle ones are kept between the target and
 * MAX, the oldest reaped first once idle past IDLE_TIMEOUT; missing ones are created for the known projects,
 * fewest-warm first.
 */
export interface ObservedWarm {
  readonly id: string
  readonly name: string
  readonly slot: string
  readonly project: string
  readonly running: boolean
  /** it ran and stopped (killed, crashed): dead at once, whatever its age — the starting grace is for one not yet started */
  readonly ended?: boolean
  readonly createdAtMs: number
  /** the parent run it joined (workerSpec.ts parentRunKey; "" when unknown) */
  readonly parentRun?: string
  /** session name when claimed by a spawn, `reaper`/`unknown` for other claims */
  readonly claimedBy?: string | undefined
}

export interface PoolTargets {
  readonly target: number
  readonly max: number
  readonly idleTimeoutMs: number
  readonly nowMs: number
  /** the parent's current run (parentRunKey); undefined when the parent does not run */
  readonly parentRun?: string | undefined
}

export type PoolAction =
  | { readonly _tag: "create"; readonly project: string }
  | { readonly _tag: "remove"; readonly id: string; readonly slot: string; readonly reason: "dead" | "over-max" | "idle" | "abandoned" | "stale-parent" }
  | { readonly _tag: "adopt"; readonly id: string; readonly name: string; readonly slot: string; readonly session: string }

const SESSIONLESS = new Set(["reaper", "unknown"])

/**
 * A warm worker not yet running is "starting", not dead, for this long after its creation: `pool warm` or another
 * manager creates, then starts it, and waits up to 30 s for its entrypoint. Only an older one was left by a crash.
 */
export const STARTING_GRACE_MS = 30_000

export const planPool = (
  observed: ReadonlyArray<ObservedWarm>,
  projects: ReadonlyArray<string>,
  t: PoolTargets
): ReadonlyArray<PoolAction> => {
  const actions: Array<PoolAction> = []
  const idle: Array<ObservedWarm> = []
  // starting workers count toward the target (another is not created meanwhile) but are never removed
  const starting: Array<ObservedWarm> = []
  for (const w of observed) {
    if (w.claimedBy !== undefined && !SESSIONLESS.has(w.claimedBy)) actions.push({ _tag: "adopt", id: w.id, name: w.name, slot: w.slot, session: w.claimedBy })
    else if (w.claimedBy !== undefined) actions.push({ _tag: "remove", id: w.id, slot: w.slot, reason: "abandoned" })
    else if (!w.running && w.ended !== true && t.nowMs - w.createdAtMs < STARTING_GRACE_MS) starting.push(w)
    else if (!w.running) actions.push({ _tag: "remove", id: w.id, slot: w.slot, reason: "dead" })
    else if (w.parentRun !== t.parentRun) actions.push({ _tag: "remove", id: w.id, slot: w.slot, reason: "stale-parent" })
    else idle.push(w)
  }
  idle.sort((a, b) => a.createdAtMs - b.createdAtMs)
  let count = idle.length
  for (const w of idle.slice(0, Math.max(0, count - t.max))) {
    actions.push({ _tag: "remove", id: w.id, slot: w.slot, reason: "over-max" })
  }
  const kept = idle.slice(Math.max(0, count - t.max))
  count = kept.length
  for (const w of kept) {
    if (count <= t.target) break
    if (t.nowMs - w.createdAtMs >= t.idleTimeoutMs) {
      actions.push({ _tag: "remove", id: w.id, slot: w.slot, reason: "idle" })
      count--
    }
  }
  if (projects.length > 0) {
    const perProject = new Map(projects.map((p) => [p, 0]))
    for (const w of [...kept, ...starting]) if (perProject.has(w.project)) perProject.set(w.project, perProject.get(w.project)! + 1)
    for (let i = count + starting.length; i < Math.min(t.target, t.max); i++) {
      // the known project with the fewest warm workers; ties go to the more recent (earlier in the list)
      let best = projects[0]!
      for (const p of projects) if (perProject.get(p)! < perProject.get(best)!) best = p
      perProject.set(best, perProject.get(best)! + 1)
      actions.push({ _tag: "create", project: best })
    }
  }
  return actions
}
