/**
 * Which engine answers the Docker API (Docker or Podman), and what it can enforce: from /version and /info (pure).
 * Podman's compatible API names itself in /version's components and says `Rootless: true` in /info (which still
 * claims MemoryLimit and PidsLimit there); rootless Docker lists "name=rootless" in /info's SecurityOptions. A rootless engine on cgroup v1 cannot enforce any limit (no delegation): it accepts the
 * container and ignores them, so claudy asks before a spawn and refuses rather than run a worker unbounded.
 */
import type { EngineVersion } from "./types.ts"

export interface EngineKind {
  readonly name: "Docker" | "Podman"
  readonly version: string
  readonly apiVersion: string
  readonly cgroupVersion: string
  readonly rootless: boolean
  /** the worker limits this engine would silently drop */
  readonly unenforced: ReadonlyArray<"memory" | "cpus" | "pids">
}

type VersionWithComponents = EngineVersion & { readonly Components?: ReadonlyArray<{ readonly Name?: string; readonly Version?: string }> }

export const engineKind = (version: VersionWithComponents, info: Record<string, unknown>): EngineKind => {
  const podman = (version.Components ?? []).find((c) => /podman/i.test(c.Name ?? ""))
  const cgroupVersion = String(info.CgroupVersion ?? "1")
  const security = Array.isArray(info.SecurityOptions) ? info.SecurityOptions.map(String) : []
  const rootless = info.Rootless === true || security.some((o) => o.includes("name=rootless"))
  const noDelegation = rootless && cgroupVersion === "1"
  const unenforced = [
    ...(noDelegation || info.MemoryLimit === false ? (["memory"] as const) : []),
    ...(noDelegation || info.CpuCfsQuota === false ? (["cpus"] as const) : []),
    ...(noDelegation || info.PidsLimit === false ? (["pids"] as const) : [])
  ]
  return {
    name: podman ? "Podman" : "Docker",
    version: podman?.Version ?? version.Version,
    apiVersion: version.ApiVersion,
    cgroupVersion,
    rootless,
    unenforced
  }
}

/** One line for doctor: "Podman 4.3.1, API 1.41, cgroup v1, rootful". */
export const describeEngine = (k: EngineKind) =>
  `${k.name} ${k.version}, API ${k.apiVersion}, cgroup v${k.cgroupVersion}, ${k.rootless ? "rootless" : "rootful"}`
