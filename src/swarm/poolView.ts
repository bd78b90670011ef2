/**
 * The warm pool on a swarm, as claudy sees it (pure): warm workers are services `<instance>-warm-<id>` labelled
 * `io.hal9000.warm=free`; a claimed one is relabelled (claim.ts) and from then on is a session like a cold one.
 * A service's one task says where it runs and whether it runs; its node's state says whether that still holds.
 */
import { LABEL } from "../domain/labels.ts"
import type { ObservedWarm } from "../pool/plan.ts"
import type { StatusWorker } from "../pool/status.ts"

/**
 * `free`: waiting for a claim; `claimed`: a session's (its `io.hal9000.session` names which); `reaping`: won by the
 * pool manager, which removes it (a removal is a claim too, so it never takes a worker a spawn has just won).
 */
export const WARM_LABEL = "io.hal9000.warm"
export type WarmState = "free" | "claimed" | "reaping"
const WARM_STATES: ReadonlySet<string> = new Set<WarmState>(["free", "claimed", "reaping"])

/** The fields of the engine's answers this file reads (src/swarm/types.ts decodes them). */
export interface ServiceLike {
  readonly ID: string
  readonly Version: { readonly Index: number }
  readonly CreatedAt: string
  readonly Spec: { readonly Name: string; readonly Labels?: { readonly [key: string]: string } | null; readonly [field: string]: unknown }
}
export interface TaskLike {
  readonly ID: string
  readonly ServiceID: string
  readonly NodeID?: string | undefined
  readonly DesiredState: string
  readonly Status: { readonly State: string; readonly ContainerStatus?: { readonly ContainerID?: string | undefined } | undefined }
}
export interface NodeLike {
  readonly ID: string
  readonly Description: { readonly Hostname: string }
  readonly Status: { readonly State: string }
  readonly Spec: { readonly Availability?: string | undefined }
}

export interface WarmTask {
  readonly id: string
  readonly node: string
  readonly hostname: string
  readonly state: string
  readonly containerId: string | undefined
}

export interface WarmService {
  readonly id: string
  readonly name: string
  /** Version.Index as observed: a claim updates at exactly this version */
  readonly version: number
  readonly spec: ServiceLike["Spec"]
  readonly fingerprint: string
  readonly project: string
  readonly state: WarmState
  readonly session: string | undefined
  readonly createdAtMs: number
  /** the task meant to run (desired state running), if the orchestrator still has one */
  readonly task: WarmTask | undefined
  /** its task's node is ready and active (false without a task) */
  readonly nodeReady: boolean
}

/** A node new work may go to: the manager sees it ready and nobody drained or paused it. */
export const nodeUsable = (n: NodeLike) => n.Status.State === "ready" && (n.Spec.Availability ?? "active") === "active"

/** The warm services among `services`, each with its task and its node's state. */
export const warmServices = (
  services: ReadonlyArray<ServiceLike>,
  tasks: ReadonlyArray<TaskLike>,
  nodes: ReadonlyArray<NodeLike>
): ReadonlyArray<WarmService> => {
  const byNode = new Map(nodes.map((n) => [n.ID, n]))
  const current = new Map<string, TaskLike>()
  for (const t of tasks) if (t.DesiredState === "running") current.set(t.ServiceID, t)
  return services.flatMap((s): Array<WarmService> => {
    const labels = s.Spec.Labels ?? {}
    const state = labels[WARM_LABEL]
    if (state === undefined || !WARM_STATES.has(state)) return []
    const t = current.get(s.ID)
    const node = t?.NodeID === undefined ? undefined : byNode.get(t.NodeID)
    return [
      {
        id: s.ID,
        name: s.Spec.Name,
        version: s.Version.Index,
        spec: s.Spec,
        fingerprint: labels[LABEL.spec] ?? "",
        project: labels[LABEL.project] ?? "",
        state: state as WarmState,
        session: labels[LABEL.session],
        createdAtMs: Date.parse(s.CreatedAt) || 0,
        task:
          t === undefined
            ? undefined
            : { id: t.ID, node: t.NodeID ?? "", hostname: node?.Description.Hostname ?? "", state: t.Status.State, containerId: t.Status.ContainerStatus?.ContainerID },
        nodeReady: node !== undefined && nodeUsable(node)
      }
    ]
  })
}

/** Free, running on a usable node, with a container to hand the session to: what a claim may take. */
export const claimable = (w: WarmService) =>
  w.state === "free" && w.nodeReady && w.task?.state === "running" && w.task.containerId !== undefined

/**
 * The free warm services of the wanted shape (on `node` only, for `--node`), in the order one spawn tries them (pure;
 * `random` in [0, 1)).
 * Shuffled: concurrent spawns that all tried the same first service would each lose one compare-and-swap per winner
 * before them; in different orders most win at their first try.
 */
export const claimOrder = (
  warm: ReadonlyArray<WarmService>,
  fingerprint: string,
  random: () => number,
  node?: string | undefined
): ReadonlyArray<WarmService> => {
  const out = warm.filter((w) => claimable(w) && w.fingerprint === fingerprint && (node === undefined || w.task?.hostname === node))
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/**
 * The claim: the spec as read with only its labels changed (pure). The task template is untouched, so the update
 * does not restart the task; sent at the observed version, it is the compare-and-swap (one winner).
 */
export const claimedSpec = (spec: ServiceLike["Spec"], session: string): ServiceLike["Spec"] => ({
  ...spec,
  Labels: { ...(spec.Labels ?? {}), [WARM_LABEL]: "claimed", [LABEL.role]: "worker", [LABEL.session]: session }
})

/** The pool manager's claim before it removes a free warm service (pure): the same compare-and-swap as a spawn's. */
export const reapingSpec = (spec: ServiceLike["Spec"]): ServiceLike["Spec"] => ({
  ...spec,
  Labels: { ...(spec.Labels ?? {}), [WARM_LABEL]: "reaping" }
})

/**
 * A free warm service as the pool's plan (src/pool/plan.ts) sees a warm worker. Running means serving: its task runs
 * on a usable node; one on a node that went down is not running, so the plan removes and replaces it once its
 * starting grace is over. Claimed ones are sessions and not the pool's: leave them out before planning.
 */
export const asObservedWarm = (w: WarmService): ObservedWarm => ({
  id: w.id,
  name: w.name,
  slot: w.id,
  project: w.project,
  running: w.nodeReady && w.task?.state === "running",
  createdAtMs: w.createdAtMs
})

/** A warm service as `pool status` shows it (pure): with its node, and why it does not serve when it does not. */
export const statusWorker = (w: WarmService): StatusWorker => ({
  name: w.name,
  project: w.project,
  spec: w.fingerprint,
  limits: w.spec.Labels?.[LABEL.limits] ?? "",
  running: w.nodeReady && w.task?.state === "running",
  claimedBy: w.state === "claimed" ? (w.session ?? "unknown") : w.state === "reaping" ? "reaper" : undefined,
  createdAtMs: w.createdAtMs,
  node: w.task?.hostname ?? "",
  stateText:
    w.task === undefined
      ? "no task (ended)"
      : !w.nodeReady
        ? `node ${w.task.hostname || w.task.node} down`
        : w.task.state !== "running"
          ? w.task.state
          : undefined
})
