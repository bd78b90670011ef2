/**
 * What the parent is on a swarm, decided from settings alone (pure): a one-replica service running ChromaDB, pinned by
 * a node label to the node that holds its volumes, on an attachable overlay network of the instance, reached by name
 * (endpoint mode dnsrr: the lab's kernel has no IPVS for service VIPs, and nothing is published through ingress).
 * Its fingerprint (a label, as on the local parent) tells a later `daemon start` whether the service still matches.
 */
import type { Settings } from "../config/variables.ts"
import { parentEnv } from "../daemon/parentSpec.ts"
import { fingerprint, LABEL, type Owner, ownerLabels } from "../domain/labels.ts"
import { parentName, VOLUME_ROLES, volumeName, volumeTargets } from "../domain/names.ts"
import { labelConstraint, NODE_LABEL } from "./nodeLabels.ts"

/** The instance's overlay network: the parent and every worker of the instance join it. */
export const parentNetworkName = (instance: string) => `${instance}-net`

/** The image tag the service was made from (its ContainerSpec names the image by id, see below). */
export const IMAGE_LABEL = "io.hal9000.image"

/**
 * Where ChromaDB answers inside the network: the service's name, on CHROMADB_PORT (the port ChromaDB listens on, as
 * in the local parent; nothing is published on any host).
 */
export const swarmChromaUrl = (instance: string, port: number) => `http://${parentName(instance)}:${port}`

export interface ParentServiceSpec {
  readonly name: string
  readonly network: string
  readonly constraint: string
  readonly port: number
  readonly fingerprint: string
  readonly mounts: ReadonlyArray<{ readonly volume: string; readonly target: string }>
  /** The service spec for the Swarm API (create, or update at a version). */
  readonly body: (replicas: 0 | 1) => Record<string, unknown>
}

/** Nanoseconds, as the Swarm API takes durations. */
const seconds = (s: number) => s * 1_000_000_000

/**
 * `imageId`: the parent image's id on the pinned node. The service names the image by id, not by tag: a tag makes
 * every node ask a registry for the image's digest first (≈ 40 s to fail where there is none, measured in the lab),
 * and claudy's images are built on the engines themselves, not pulled.
 */
export const parentServiceSpec = (s: Settings, owner: Owner, version: string, imageId: string): ParentServiceSpec => {
  const name = parentName(owner.instance)
  const network = parentNetworkName(owner.instance)
  const constraint = labelConstraint(NODE_LABEL.parentOf(owner.instance), "true")
  const env = parentEnv(s)
  const targets = volumeTargets(s.chromadbDataDir)
  const mounts = VOLUME_ROLES.map((role) => ({ volume: volumeName(owner.instance, role), target: targets[role] }))
  const port = s.chromadbPort
  const fp = fingerprint({ image: s.parentImage, imageId, env, port, mounts, network, constraint })
  const labels = { ...ownerLabels(owner, "parent", version), [LABEL.spec]: fp }
  return {
    name,
    network,
    constraint,
    port,
    fingerprint: fp,
    mounts,
    body: (replicas) => ({
      Name: name,
      Labels: { ...labels, [IMAGE_LABEL]: s.parentImage },
      TaskTemplate: {
        ContainerSpec: {
          Image: imageId,
          Env: env,
          // the task's container carries the parent's labels too: the node's engine lists it as claudy's
          Labels: labels,
          Mounts: mounts.map((m) => ({
            Type: "volume",
            Source: m.volume,
            Target: m.target,
            // claudy creates the volumes first (labelled); should the node lose one, it comes back labelled too
            VolumeOptions: { Labels: ownerLabels(owner, "volume", version) }
          })),
          // chroma ignores SIGTERM but exits cleanly on SIGINT (as the local parent's StopSignal)
          StopSignal: "SIGINT",
          StopGracePeriod: seconds(10)
        },
        Placement: { Constraints: [constraint] },
        // the swarm restarts a parent that exits, as `unless-stopped` does locally; a stop is a scale to 0
        RestartPolicy: { Condition: "any", Delay: seconds(1) },
        Networks: [{ Target: network }]
      },
      Mode: { Replicated: { Replicas: replicas } },
      EndpointSpec: { Mode: "dnsrr" }
    })
  }
}

interface ServiceSpecSeen {
  readonly Labels?: Readonly<Record<string, string>> | null
  readonly TaskTemplate?: unknown
}

/**
 * Human-readable differences between the desired parent and the service's current spec (for ParentConfigDiffers).
 * The engine keeps a service's network by id (`networkId`, when the network exists), not by the name it was given.
 */
export const parentServiceDifferences = (
  desired: ParentServiceSpec,
  actual: ServiceSpecSeen,
  desiredImage: string,
  networkId?: string
): ReadonlyArray<string> => {
  if (actual.Labels?.[LABEL.spec] === desired.fingerprint) return []
  const want = desired.body(1) as { TaskTemplate: { ContainerSpec: { Image: string; Env: ReadonlyArray<string> } } }
  const task = (actual.TaskTemplate ?? {}) as {
    ContainerSpec?: { Image?: string; Env?: ReadonlyArray<string>; Mounts?: ReadonlyArray<{ Source?: string; Target?: string }> }
    Placement?: { Constraints?: ReadonlyArray<string> }
    Networks?: ReadonlyArray<{ Target?: string }>
  }
  const out: Array<string> = []
  const image = actual.Labels?.[IMAGE_LABEL]
  if (image !== desiredImage) out.push(`image ${image ?? "(unknown)"} -> ${desiredImage}`)
  else if (task.ContainerSpec?.Image !== want.TaskTemplate.ContainerSpec.Image) out.push(`image ${desiredImage} was rebuilt since the parent was created`)
  const have = new Map((task.ContainerSpec?.Env ?? []).map((e) => [e.split("=")[0]!, e.slice(e.indexOf("=") + 1)]))
  for (const entry of want.TaskTemplate.ContainerSpec.Env) {
    const key = entry.split("=")[0]!
    const value = entry.slice(key.length + 1)
    if (have.get(key) !== value) out.push(`${key} ${have.get(key) ?? "(unset)"} -> ${value}`)
  }
  for (const m of desired.mounts) {
    if (!(task.ContainerSpec?.Mounts ?? []).some((x) => x.Source === m.volume && x.Target === m.target)) out.push(`volume ${m.volume} not mounted at ${m.target}`)
  }
  if (!(task.Placement?.Constraints ?? []).includes(desired.constraint)) out.push(`placement -> ${desired.constraint}`)
  if (!(task.Networks ?? []).some((n) => n.Target === desired.network || (networkId !== undefined && n.Target === networkId))) out.push(`network -> ${desired.network}`)
  // same parts, another fingerprint: made by a claudy whose fingerprint covered other things; the same parent
  return out
}
