/** The parts of the Engine API's answers that claudy reads. */
export interface ContainerState {
  readonly Status: string
  readonly Running: boolean
  readonly Restarting?: boolean
  readonly OOMKilled?: boolean
  readonly ExitCode?: number
  readonly StartedAt?: string
  readonly FinishedAt?: string
  readonly Error?: string
}

export interface ContainerInspect {
  readonly Id: string
  readonly Name: string
  readonly Image: string
  readonly Created: string
  readonly State: ContainerState
  readonly RestartCount?: number
  readonly Config: {
    readonly Image: string
    readonly Env?: ReadonlyArray<string> | null
    readonly Labels?: Record<string, string> | null
    readonly User?: string
    readonly Tty?: boolean
    readonly Cmd?: ReadonlyArray<string> | null
  }
  readonly HostConfig: {
    readonly NetworkMode?: string
    readonly Memory?: number
    readonly NanoCpus?: number
    readonly PidsLimit?: number | null
    readonly MemorySwap?: number
    readonly CapDrop?: ReadonlyArray<string> | null
    readonly CapAdd?: ReadonlyArray<string> | null
    readonly SecurityOpt?: ReadonlyArray<string> | null
    readonly PortBindings?: Record<string, ReadonlyArray<{ HostIp?: string; HostPort?: string }> | null> | null
  }
  readonly Mounts?: ReadonlyArray<{ Type: string; Name?: string; Source?: string; Destination: string }>
}

export interface ContainerSummary {
  readonly Id: string
  readonly Names: ReadonlyArray<string>
  readonly Image: string
  readonly State: string
  readonly Status: string
  readonly Labels: Record<string, string>
  readonly Created: number
  readonly Ports?: ReadonlyArray<{ PrivatePort: number; PublicPort?: number; IP?: string; Type: string }>
  readonly HostConfig?: { readonly NetworkMode?: string }
}

export interface VolumeInspect {
  readonly Name: string
  readonly Driver: string
  readonly Mountpoint: string
  readonly Labels: Record<string, string> | null
  readonly CreatedAt?: string
}

export interface ImageInspect {
  readonly Id: string
  readonly RepoTags?: ReadonlyArray<string> | null
  readonly RepoDigests?: ReadonlyArray<string> | null
  readonly Created?: string
  readonly Size?: number
  readonly Config?: { readonly Labels?: Record<string, string> | null }
}

export interface EngineVersion {
  readonly Version: string
  readonly ApiVersion: string
  readonly Os?: string
  readonly Arch?: string
  readonly KernelVersion?: string
}

export type Filters = Record<string, ReadonlyArray<string>>

/** Which part of a container's log to read, beyond --tail (`docker logs --since/--timestamps`). */
export interface LogWindow {
  /** `seconds.nanoseconds` (src/sessions/since.ts) */
  readonly since?: string
  readonly timestamps?: boolean
}
