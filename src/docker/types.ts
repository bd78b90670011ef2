/**
 * The parts of the Engine API's answers that claudy reads, as Schemas: an answer is decoded (extra fields dropped),
 * so a missing or renamed field is a typed DockerResponseInvalid at the call, not an `undefined` far away.
 * Each schema is built on its first use (`lazy`), never at start-up: a command pays only for the answers it reads.
 */
import { Schema } from "effect"

/** Build once, on first use. */
export const lazy = <A>(build: () => A): (() => A) => {
  let built: A | undefined
  return () => (built ??= build())
}

export const opt = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(s, { exact: true })
export const nullable = <S extends Schema.Schema.Any>(s: S) => opt(Schema.NullOr(s))
/**
 * Bags claudy reads by key or index (labels, env, command, port bindings): checked as one object or array, not entry
 * by entry. A decode costs start-up time per node (measured: `daemon status` +9 ms with every label and env entry
 * checked), and these hold dozens of entries whose form the engine guarantees once the bag's own form is right.
 */
export const bag = <A>(identifier: string, is: (u: unknown) => boolean) => Schema.declare((u: unknown): u is A => is(u), { identifier })
export const isObject = (u: unknown) => typeof u === "object" && u !== null && !Array.isArray(u)
export const Strings = bag<ReadonlyArray<string>>("Strings", Array.isArray)
export const StringMap = bag<{ readonly [key: string]: string }>("StringMap", isObject)
type PortBinding = { readonly HostIp?: string; readonly HostPort?: string }
const PortBindings = bag<{ readonly [port: string]: ReadonlyArray<PortBinding> | null }>("PortBindings", isObject)
type PortSummary = { readonly PrivatePort: number; readonly PublicPort?: number; readonly IP?: string; readonly Type: string }
const Ports = bag<ReadonlyArray<PortSummary>>("Ports", Array.isArray)

const containerState = () =>
  Schema.Struct({
    Status: Schema.String,
    Running: Schema.Boolean,
    Restarting: opt(Schema.Boolean),
    OOMKilled: opt(Schema.Boolean),
    ExitCode: opt(Schema.Number),
    StartedAt: opt(Schema.String),
    /** the host pid of its first process while it runs (0 otherwise) */
    Pid: opt(Schema.Number),
    FinishedAt: opt(Schema.String),
    Error: opt(Schema.String)
  })

const containerInspect = () =>
  Schema.Struct({
    Id: Schema.String,
    Name: Schema.String,
    Image: Schema.String,
    Created: Schema.String,
    State: containerState(),
    RestartCount: opt(Schema.Number),
    Config: Schema.Struct({
      Image: Schema.String,
      Env: nullable(Strings),
      Labels: nullable(StringMap),
      User: opt(Schema.String),
      Tty: opt(Schema.Boolean),
      Cmd: nullable(Strings)
    }),
    HostConfig: Schema.Struct({
      NetworkMode: opt(Schema.String),
      Memory: opt(Schema.Number),
      NanoCpus: opt(Schema.Number),
      PidsLimit: nullable(Schema.Number),
      MemorySwap: opt(Schema.Number),
      CapDrop: nullable(Strings),
      CapAdd: nullable(Strings),
      SecurityOpt: nullable(Strings),
      PortBindings: nullable(PortBindings)
    }),
    Mounts: opt(
      Schema.Array(Schema.Struct({ Type: Schema.String, Name: opt(Schema.String), Source: opt(Schema.String), Destination: Schema.String }))
    )
  })

const containerSummary = () =>
  Schema.Struct({
    Id: Schema.String,
    Names: Strings,
    Image: Schema.String,
    State: Schema.String,
    Status: Schema.String,
    Labels: StringMap,
    Created: Schema.Number,
    Ports: opt(Ports),
    HostConfig: opt(Schema.Struct({ NetworkMode: opt(Schema.String) }))
  })

const volumeInspect = () =>
  Schema.Struct({
    Name: Schema.String,
    Driver: Schema.String,
    Mountpoint: Schema.String,
    Labels: Schema.NullOr(StringMap),
    CreatedAt: opt(Schema.String)
  })

const imageInspect = () =>
  Schema.Struct({
    Id: Schema.String,
    RepoTags: nullable(Strings),
    RepoDigests: nullable(Strings),
    Created: opt(Schema.String),
    Size: opt(Schema.Number),
    Config: opt(Schema.Struct({ Labels: nullable(StringMap) }))
  })

const engineVersion = () =>
  Schema.Struct({
    Version: Schema.String,
    ApiVersion: Schema.String,
    Os: opt(Schema.String),
    Arch: opt(Schema.String),
    KernelVersion: opt(Schema.String),
    // Podman names itself here ("Podman Engine"): src/docker/engineKind.ts
    Components: opt(Schema.Array(Schema.Struct({ Name: opt(Schema.String), Version: opt(Schema.String) })))
  })

export type ContainerState = ReturnType<typeof containerState>["Type"]
export type ContainerInspect = ReturnType<typeof containerInspect>["Type"]
export type ContainerSummary = ReturnType<typeof containerSummary>["Type"]
export type VolumeInspect = ReturnType<typeof volumeInspect>["Type"]
export type ImageInspect = ReturnType<typeof imageInspect>["Type"]
export type EngineVersion = ReturnType<typeof engineVersion>["Type"]

/** The schema of each answer the Engine service decodes, built on first use. */
export const Answers = {
  containerInspect: lazy(containerInspect),
  containerList: lazy(() => Schema.Array(containerSummary())),
  created: lazy(() => Schema.Struct({ Id: Schema.String })),
  waited: lazy(() => Schema.Struct({ StatusCode: Schema.Number })),
  volumeInspect: lazy(volumeInspect),
  volumeList: lazy(() => Schema.Struct({ Volumes: Schema.NullOr(Schema.Array(volumeInspect())) })),
  imageInspect: lazy(imageInspect),
  engineVersion: lazy(engineVersion),
  info: lazy(() => Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  event: lazy(() => Schema.Struct({ status: opt(Schema.String), Action: opt(Schema.String), id: opt(Schema.String) }))
}

export type Filters = Record<string, ReadonlyArray<string>>

/** Which part of a container's log to read, beyond --tail (`docker logs --since/--timestamps`). */
export interface LogWindow {
  /** `seconds.nanoseconds` (src/sessions/since.ts) */
  readonly since?: string
  readonly timestamps?: boolean
}
