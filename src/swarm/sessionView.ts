/**
 * A swarm session's record (pure), in the same form as on one host: from its task container when its node's engine
 * shows it (state, exit code, OOM), else from the service's labels and the task's state. Adds the node.
 */
import { LABEL } from "../domain/labels.ts"
import type { ContainerInspect } from "../docker/types.ts"
import { type LimitEvidence, parseLimits, recordFromContainer, type SessionRecord, type SessionStatus, statusOf } from "../sessions/record.ts"
import type { SwarmService, SwarmTask } from "./types.ts"
import { IMAGE_TAG_LABEL, instanceNetwork } from "./workerService.ts"

/** A --via-parent worker is on the instance's overlay; any other on its node's default bridge (the engine: "default"). */
const networkOf = (labels: Record<string, string>) => (labels[LABEL.parent] ? instanceNetwork(labels[LABEL.instance] ?? "") : "bridge")

/** The session's state when its container cannot be looked at: from the task (pure). */
export const statusOfTask = (t: SwarmTask | undefined, nodeDown: boolean): SessionStatus => {
  if (nodeDown) return "lost"
  switch (t?.Status.State) {
    case "running":
      return "running"
    case "complete":
    case "failed":
    case "rejected":
    case "shutdown":
    case "remove":
      return "exited"
    case "orphaned":
      return "lost"
    default:
      return "created"
  }
}

/** From the task container on its node (the truth, as on one host). */
export const recordFromTaskContainer = (
  c: ContainerInspect,
  evidence: LimitEvidence,
  session: string,
  node: string | null,
  now: string
): SessionRecord => {
  const r = recordFromContainer(c, statusOf(c, evidence), now, session)
  const labels = c.Config.Labels ?? {}
  return { ...r, image: labels[IMAGE_TAG_LABEL] ?? r.image, network_mode: networkOf(labels), node }
}

/** From the service's labels and its task, when the container is out of reach (node down) or not made yet. */
export const recordFromService = (
  svc: SwarmService,
  task: SwarmTask | undefined,
  status: SessionStatus,
  node: string | null,
  now: string
): SessionRecord => {
  const labels = svc.Spec.Labels ?? {}
  const spec = (svc.Spec as { readonly TaskTemplate?: { readonly ContainerSpec?: { readonly Image?: string } } }).TaskTemplate
  const code = task?.Status.ContainerStatus?.ExitCode
  return {
    name: labels[LABEL.session] ?? svc.Spec.Name,
    image: labels[IMAGE_TAG_LABEL] ?? spec?.ContainerSpec?.Image ?? "",
    parent: labels[LABEL.parent] ? labels[LABEL.parent]! : null,
    project_dir: labels[LABEL.project] ?? "",
    created_at: new Date(svc.CreatedAt).toISOString(),
    resource_limits: parseLimits(labels[LABEL.limits]),
    container_id: task?.Status.ContainerStatus?.ContainerID ?? "",
    container_name: svc.Spec.Name,
    network_mode: networkOf(labels),
    status,
    exit_code: status === "exited" && code !== undefined ? code : null,
    instance: labels[LABEL.instance] ?? "",
    updated_at: now,
    profile: labels[LABEL.profile] ? labels[LABEL.profile]! : null,
    node
  }
}
