/**
 * A session's record in HAL9000_HOME/sessions/<name>.json: the guide's fields (name, image, parent, project_dir,
 * created_at, resource_limits) plus what claudy needs. Written from the labelled container (the truth) and rebuilt
 * from its labels when missing (pure functions here; files in SessionStore).
 */
import { Schema } from "effect"
import { LABEL } from "../domain/labels.ts"
import type { ContainerInspect } from "../docker/types.ts"

export const ResourceLimits = Schema.Struct({
  enabled: Schema.Boolean,
  memory: Schema.NullOr(Schema.String),
  cpus: Schema.NullOr(Schema.String),
  pids_limit: Schema.NullOr(Schema.String)
})

export const SessionStatus = Schema.Literal(
  "created",
  "running",
  "exited",
  "oom-killed",
  "pids-limit-reached",
  "gone",
  /** on a swarm: its node is down or its engine does not answer; the session cannot be reached */
  "lost"
)
export type SessionStatus = typeof SessionStatus.Type

export const SessionRecord = Schema.Struct({
  name: Schema.String,
  image: Schema.String,
  parent: Schema.NullOr(Schema.String),
  project_dir: Schema.String,
  created_at: Schema.String,
  resource_limits: ResourceLimits,
  container_id: Schema.String,
  container_name: Schema.String,
  network_mode: Schema.String,
  status: SessionStatus,
  exit_code: Schema.NullOr(Schema.Number),
  instance: Schema.String,
  updated_at: Schema.String,
  /** the language profile (base, python, node, java or a custom one); null for a user's --image or an older record */
  profile: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  /** on a swarm: the node (hostname) that runs it; null on one host */
  node: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
})
export type SessionRecord = typeof SessionRecord.Type

export const decodeRecord = Schema.decodeUnknownEither(SessionRecord)

export const parseLimits = (raw: string | undefined): SessionRecord["resource_limits"] => {
  try {
    const v = Schema.decodeUnknownSync(ResourceLimits)(JSON.parse(raw ?? ""))
    return v
  } catch {
    return { enabled: false, memory: null, cpus: null, pids_limit: null }
  }
}

/** What a record is made of: an inspect, or the container as claudy has just created it (`createdAs`). */
export type RecordSource = {
  readonly Id: string
  readonly Name: string
  readonly Created: string
  readonly Config: Pick<ContainerInspect["Config"], "Image" | "Labels">
  readonly HostConfig: Pick<ContainerInspect["HostConfig"], "NetworkMode">
  readonly State: Pick<ContainerInspect["State"], "Running" | "ExitCode">
}

/** The record a labelled container implies, with `status` from its state and limit evidence. */
export const recordFromContainer = (
  c: RecordSource,
  status: SessionStatus,
  now: string,
  /** for a claimed warm worker, the session its claim names (its labels cannot say) */
  session?: string
): SessionRecord => {
  const labels = c.Config.Labels ?? {}
  return {
    name: session ?? labels[LABEL.session] ?? c.Name.replace(/^\//, ""),
    image: c.Config.Image,
    parent: labels[LABEL.parent] ? labels[LABEL.parent]! : null,
    project_dir: labels[LABEL.project] ?? "",
    created_at: new Date(c.Created).toISOString(),
    resource_limits: parseLimits(labels[LABEL.limits]),
    container_id: c.Id,
    container_name: c.Name.replace(/^\//, ""),
    // The engine stores `container:<id>`; the parent's name is what users know and grep for.
    network_mode: labels[LABEL.parent] ? `container:${labels[LABEL.parent]}` : (c.HostConfig.NetworkMode ?? ""),
    status,
    // running: also from the container as created (Sessions.recordStarted), whose state says nothing of an exit
    exit_code: c.State.Running || status === "created" || status === "running" ? null : (c.State.ExitCode ?? null),
    instance: labels[LABEL.instance] ?? "",
    updated_at: now,
    profile: labels[LABEL.profile] ? labels[LABEL.profile]! : null,
    node: null
  }
}

export interface LimitEvidence {
  /** an `oom` event for this container in the engine's event log */
  readonly oomEvent: boolean
  /** the pids cgroup's `max` counter (forks refused), when readable */
  readonly pidsMaxHits: number | undefined
}

/** A session's status from the container state and the limit evidence (pure). */
export const statusOf = (c: ContainerInspect, evidence: LimitEvidence, previous?: SessionStatus): SessionStatus => {
  const s = c.State
  if (s.OOMKilled || (evidence.oomEvent && !s.Running)) return "oom-killed"
  if ((evidence.pidsMaxHits ?? 0) > 0 || previous === "pids-limit-reached") return "pids-limit-reached"
  if (s.Running) return "running"
  if (s.Status === "created") return "created"
  return "exited"
}
