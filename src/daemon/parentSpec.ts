/**
 * What the parent container should be, decided from settings alone (pure): its create body for the Engine API,
 * and a fingerprint stored as a label so a later `start` can tell whether the running parent matches.
 */
import type { Settings } from "../config/variables.ts"
import { fingerprint, LABEL, type Owner, ownerLabels } from "../domain/labels.ts"
import { parentName, VOLUME_ROLES, volumeName, volumeTargets } from "../domain/names.ts"
import type { ContainerInspect } from "../docker/types.ts"

/** Settings the parent (and through it, users inspecting it) sees as its environment. Secrets never go here. */
export const parentEnv = (s: Settings): ReadonlyArray<string> => [
  `CHROMADB_HOST=${s.chromadbHost}`,
  `CHROMADB_PORT=${s.chromadbPort}`,
  `CHROMADB_DATA_DIR=${s.chromadbDataDir}`,
  `WORKER_IMAGE=${s.workerImage}`,
  `SKIP_IMAGE_PULL=${s.skipImagePull}`,
  `LAZY_IMAGE_PULL=${s.lazyImagePull}`,
  `ENABLE_POOL_MANAGER=${s.enablePoolManager}`,
  `MIN_WARM_WORKERS=${s.minWarmWorkers}`,
  `MAX_WARM_WORKERS=${s.maxWarmWorkers}`,
  `IDLE_TIMEOUT=${s.idleTimeout}`,
  `CHECK_INTERVAL=${s.checkInterval}`,
  `WORKER_MEMORY=${s.workerMemory.raw}`,
  `WORKER_CPUS=${s.workerCpus.raw}`,
  `WORKER_PIDS_LIMIT=${s.workerPidsLimit}`
]

export interface ParentSpec {
  readonly name: string
  readonly image: string
  readonly port: number
  readonly env: ReadonlyArray<string>
  readonly mounts: ReadonlyArray<{ readonly volume: string; readonly target: string }>
  readonly fingerprint: string
  readonly createBody: Record<string, unknown>
}

export const parentSpec = (s: Settings, owner: Owner, version: string, imageId: string): ParentSpec => {
  const name = parentName(owner.instance)
  const env = parentEnv(s)
  const targets = volumeTargets(s.chromadbDataDir)
  const mounts = VOLUME_ROLES.map((role) => ({ volume: volumeName(owner.instance, role), target: targets[role] }))
  const port = s.chromadbPort
  const fp = fingerprint({ image: s.parentImage, imageId, env, port, mounts })
  const portKey = `${port}/tcp`
  return {
    name,
    image: s.parentImage,
    port,
    env,
    mounts,
    fingerprint: fp,
    createBody: {
      Image: s.parentImage,
      Env: env,
      Labels: { ...ownerLabels(owner, "parent", version), [LABEL.spec]: fp },
      ExposedPorts: { [portKey]: {} },
      // chroma ignores SIGTERM but exits cleanly on SIGINT: without this every stop takes the full timeout.
      StopSignal: "SIGINT",
      HostConfig: {
        // Published on loopback only: ChromaDB has no auth, so it is not offered to the network.
        PortBindings: { [portKey]: [{ HostIp: "127.0.0.1", HostPort: String(port) }] },
        RestartPolicy: { Name: "unless-stopped" },
        Mounts: mounts.map((m) => ({ Type: "volume", Source: m.volume, Target: m.target })),
        SecurityOpt: ["no-new-privileges"]
      }
    }
  }
}

/** Human-readable differences between a desired spec and an existing parent, for ParentConfigDiffers. */
export const parentDifferences = (spec: ParentSpec, actual: ContainerInspect, desiredImageId: string): ReadonlyArray<string> => {
  if (actual.Config.Labels?.[LABEL.spec] === spec.fingerprint) return []
  const out: Array<string> = []
  if (actual.Config.Image !== spec.image) out.push(`image ${actual.Config.Image} -> ${spec.image}`)
  else if (actual.Image !== desiredImageId) out.push(`image ${spec.image} was rebuilt since the parent was created`)
  const have = new Map((actual.Config.Env ?? []).map((e) => [e.split("=")[0]!, e.slice(e.indexOf("=") + 1)]))
  for (const entry of spec.env) {
    const key = entry.split("=")[0]!
    const want = entry.slice(key.length + 1)
    if (have.get(key) !== want) out.push(`${key} ${have.get(key) ?? "(unset)"} -> ${want}`)
  }
  const bound = Object.keys(actual.HostConfig.PortBindings ?? {})
  if (!bound.includes(`${spec.port}/tcp`)) out.push(`published port ${bound.join(",") || "(none)"} -> ${spec.port}/tcp`)
  return out.length > 0 ? out : ["spec fingerprint differs (created by another claudy version)"]
}

/** Port bound on the host by an existing parent (it may differ from the configured one). */
export const publishedPort = (c: ContainerInspect): number | undefined => {
  for (const bindings of Object.values(c.HostConfig.PortBindings ?? {})) {
    const p = Number(bindings?.[0]?.HostPort)
    if (Number.isInteger(p) && p > 0) return p
  }
  return undefined
}
