/**
 * What the parent container should be, decided from settings alone (pure): its create body for the Engine API,
 * and a fingerprint stored as a label so a later `start` can tell whether the running parent matches.
 */
import type { Settings } from "../config/variables.ts"
import { fingerprint, LABEL, type Owner, ownerLabels } from "../domain/labels.ts"
import { parentName, VOLUME_ROLES, volumeName, volumeTargets } from "../domain/names.ts"
import type { ContainerInspect } from "../docker/types.ts"

/**
 * What the parent itself uses, and so all its environment holds: ChromaDB's address, port and data directory. Worker
 * and pool settings are claudy's, not the parent's (config/kept.ts keeps them), so changing them never makes the
 * parent "differ". Secrets never go here.
 */
export const parentEnv = (s: Settings): ReadonlyArray<string> => [
  `CHROMADB_HOST=${s.chromadbHost}`,
  `CHROMADB_PORT=${s.chromadbPort}`,
  `CHROMADB_DATA_DIR=${s.chromadbDataDir}`
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

/**
 * Human-readable differences between a desired spec and an existing parent, for ParentConfigDiffers: the image, the
 * parent's own environment, the published port and the volumes. A parent that another claudy version created with the
 * same of these (its fingerprint differs only by what it no longer covers) is the same parent.
 */
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
  const mounted = actual.Mounts
  if (mounted !== undefined) {
    for (const m of spec.mounts) {
      if (!mounted.some((x) => x.Name === m.volume && x.Destination === m.target)) out.push(`volume ${m.volume} not mounted at ${m.target}`)
    }
  }
  return out
}

/** Port bound on the host by an existing parent (it may differ from the configured one). */
export const publishedPort = (c: ContainerInspect): number | undefined => {
  for (const bindings of Object.values(c.HostConfig.PortBindings ?? {})) {
    const p = Number(bindings?.[0]?.HostPort)
    if (Number.isInteger(p) && p > 0) return p
  }
  return undefined
}
