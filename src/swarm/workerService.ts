/**
 * A worker as a Swarm service (pure), from the same WorkerShape as a local worker's container: one replica, never
 * restarted, placed on a node that has the projects root (and the project), hardened as on one host — a non-root
 * user, every capability dropped, memory/cpu/pids limits, no engine socket. Swarm on Engine 20.10 has no
 * per-service no-new-privileges: the node daemons run with `--no-new-privileges` (doctor checks it). The session
 * (command, environment, API key) is never in the spec: it arrives on the worker's stdin (handoffProtocol.ts).
 * Cold sessions and warm workers are made from this one spec; they differ only in role, name and session label.
 */
import { fingerprint, LABEL, ownerLabels } from "../domain/labels.ts"
import { parentName, volumeName } from "../domain/names.ts"
import { claudeHomeMount } from "../spawn/claudeHome.ts"
import { IMAGE_USER, memoryMounts, sharedWorkerEnv, WORKSPACE, type WorkerShape, workerLabels } from "../spawn/workerSpec.ts"
import { VERSION } from "../version.ts"
import { HANDOFF_ENV } from "./handoffProtocol.ts"
import { labelConstraint, NODE_LABEL } from "./nodeLabels.ts"
import { parentNetworkName } from "./parentSpec.ts"

/** The instance's attachable overlay network (the parent's): every --via-parent worker of the instance joins it. */
export const instanceNetwork = parentNetworkName

/** Swarm service names are DNS labels: at most 63 characters. */
const MAX_SERVICE_NAME = 63

/**
 * `<instance>-worker-<session>` (or `-warm-<id>`) as on one host, shortened with a hash of the whole name when it
 * would exceed a DNS label (pure). Names are for people: sessions are found by their io.hal9000.session label.
 */
export const workerServiceName = (instance: string, role: "worker" | "warm", name: string) => {
  const full = `${instance}-${role}-${name}`
  if (full.length <= MAX_SERVICE_NAME) return full
  const hash = fingerprint(full).slice(0, 8)
  return `${full.slice(0, MAX_SERVICE_NAME - hash.length - 1).replace(/-+$/, "")}-${hash}`
}

/** Where a worker may run. */
export interface SwarmPlacement {
  /** the projects root the project lies under: only nodes labelled with it qualify */
  readonly projectsRoot: string
  /** `--node`: this node's hostname only */
  readonly node?: string | undefined
  /** ids of nodes that have the projects root but not this project (checked on their engines): never chosen */
  readonly avoid: ReadonlyArray<string>
  /**
   * The image's id (`sha256:…`): a service that names its image by tag makes each node ask a registry for its digest
   * first (≈ 40 s to fail where there is none); by id, the nodes that have those very bits run it at once.
   */
  readonly imageId?: string | undefined
}

/**
 * Constraints only (pure). One replica per service, so a Spread preference (counted per service) would only split
 * each single task over the label's values in map order — random placement; without one, the scheduler's own rule
 * (fewest tasks on the node) spreads sessions and warm workers over the qualifying nodes.
 */
export const placementOf = (p: SwarmPlacement) => ({
  Constraints: [
    labelConstraint(NODE_LABEL.projectsRoot, p.projectsRoot),
    ...(p.node !== undefined ? [`node.hostname==${p.node}`] : []),
    ...p.avoid.map((id) => `node.id!=${id}`)
  ]
})

/**
 * The worker's environment on a swarm: the shared part, the stdin hand-off, and with --via-parent ChromaDB by name
 * (CHROMADB_URL; the parent service listens on CHROMADB_PORT) plus `localhost:CHROMADB_PORT` through the
 * entrypoint's forwarder (CLAUDY_FORWARD), for the tools that expect it there as on one host.
 */
export const serviceEnv = (shape: WorkerShape) => {
  const parent = parentName(shape.owner.instance)
  return [
    HANDOFF_ENV,
    ...sharedWorkerEnv(shape),
    ...(shape.viaParent
      ? [
          `CHROMADB_URL=http://${parent}:${shape.chromadbPort}`,
          `CHROMADB_HOST=localhost`,
          `CHROMADB_PORT=${shape.chromadbPort}`,
          `CLAUDY_FORWARD=${shape.chromadbPort}:${parent}:${shape.chromadbPort}`
        ]
      : [])
  ]
}

/** The image tag a service was made from, when its spec names the image by id (as the parent's, same key). */
export const IMAGE_TAG_LABEL = "io.hal9000.image"

/** A swarm worker keeps a Claude home only as the image's user: Swarm cannot give a volume or tmpfs to another uid. */
const keepsClaudeHome = (shape: WorkerShape) => shape.withoutClaudeHome !== true && shape.user.uid === IMAGE_USER.uid

/**
 * The mounts (pure). Volumes are the node's own (created, labelled, on the node the task lands on) and copy the
 * worker image's directory when new, so their owner and mode are the image's (the memory bank 1777, the Claude home
 * the image user's): no root helper runs on a node before the worker.
 */
export const serviceMounts = (shape: WorkerShape) => {
  const labels = ownerLabels(shape.owner, "volume", VERSION)
  return [
    { Type: "bind", Source: shape.projectDir, Target: WORKSPACE, ReadOnly: false },
    ...memoryMounts(shape).map((m) => ("VolumeOptions" in m ? { ...m, VolumeOptions: { NoCopy: false, Labels: labels } } : m)),
    ...(keepsClaudeHome(shape) ? [{ ...claudeHomeMount(shape.owner.instance), VolumeOptions: { NoCopy: false, Labels: labels } }] : []),
    // Another uid than the image's cannot write /home/claude; Swarm's tmpfs has no uid option: a sticky 1777 one.
    ...(shape.user.uid !== IMAGE_USER.uid ? [{ Type: "tmpfs", Target: "/home/claude", TmpfsOptions: { Mode: 0o1777 } }] : [])
  ]
}

/** What makes two swarm workers interchangeable (a warm service serves any spawn of the same fingerprint). */
export const workerServiceFingerprint = (shape: WorkerShape) =>
  fingerprint({
    backend: "swarm",
    image: shape.image,
    project: shape.projectDir,
    limits: shape.limits,
    network: shape.viaParent ? instanceNetwork(shape.owner.instance) : null,
    port: shape.viaParent ? shape.chromadbPort : null,
    user: shape.user,
    tty: shape.tty,
    memory: { binary: shape.claudyBinary, version: VERSION, embedding: shape.embedding, volumes: memoryMounts(shape).map((m) => m.Source) },
    claudeHome: keepsClaudeHome(shape) ? volumeName(shape.owner.instance, "claude-home") : null
  })

export interface ServiceIdentity {
  readonly role: "worker" | "warm"
  /** the service name (workerServiceName) */
  readonly name: string
  readonly session?: string | undefined
  /** a warm worker's id (its name's tail), kept as the slot label as on one host */
  readonly slot?: string | undefined
  readonly version: string
}

export const workerService = (shape: WorkerShape, id: ServiceIdentity, placement: SwarmPlacement) => {
  const spec = workerServiceFingerprint(shape)
  const labels = {
    ...workerLabels(shape, id, spec),
    ...(id.slot !== undefined ? { [LABEL.slot]: id.slot } : {}),
    [IMAGE_TAG_LABEL]: shape.image
  }
  const l = shape.limits
  return {
    Name: id.name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: placement.imageId ?? shape.image,
        // The task container carries the same labels: sessions and cleanups find it on its node by them.
        Labels: labels,
        User: `${shape.user.uid}:${shape.user.gid}`,
        Dir: WORKSPACE,
        Env: serviceEnv(shape),
        TTY: shape.tty,
        OpenStdin: true,
        Mounts: serviceMounts(shape),
        CapabilityDrop: ["ALL"]
      },
      Resources: l.enabled ? { Limits: { MemoryBytes: l.memory!.bytes, NanoCPUs: l.cpus!.nanoCpus, Pids: l.pidsLimit! } } : {},
      // A session ends when its command does: never restarted, on this node or another.
      RestartPolicy: { Condition: "none", MaxAttempts: 0 },
      Placement: placementOf(placement),
      ...(shape.viaParent ? { Networks: [{ Target: instanceNetwork(shape.owner.instance) }] } : {})
    },
    Mode: { Replicated: { Replicas: 1 } },
    // No virtual IP (the lab's kernel has no IPVS) and nothing published: a worker serves no one.
    EndpointSpec: { Mode: "dnsrr" }
  }
}
