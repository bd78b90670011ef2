/**
 * The parts of the Swarm API's answers claudy reads (API 1.41, Engine 20.10), decoded like the container answers in
 * src/docker/types.ts. A service's `Spec` is kept whole (not decoded field by field): an update must send back the
 * spec it read with only claudy's change, or it would drop what it did not know about.
 */
import { Schema } from "effect"
import { bag, isObject, lazy, nullable, opt, StringMap } from "../docker/types.ts"

const version = () => Schema.Struct({ Index: Schema.Number })

/** A service spec as the engine holds it: read for its name and labels, sent back whole on update. */
export interface ServiceSpec {
  readonly Name: string
  readonly Labels?: { readonly [key: string]: string } | null
  readonly [field: string]: unknown
}
const Spec = bag<ServiceSpec>("ServiceSpec", (u) => isObject(u) && typeof (u as { Name?: unknown }).Name === "string")

const node = () =>
  Schema.Struct({
    ID: Schema.String,
    Version: version(),
    Spec: Schema.Struct({
      Labels: nullable(StringMap),
      Role: opt(Schema.String),
      Availability: opt(Schema.String)
    }),
    Description: Schema.Struct({ Hostname: Schema.String }),
    Status: Schema.Struct({ State: Schema.String, Addr: opt(Schema.String), Message: opt(Schema.String) }),
    ManagerStatus: opt(Schema.Struct({ Leader: opt(Schema.Boolean), Reachability: opt(Schema.String) }))
  })

const service = () =>
  Schema.Struct({
    ID: Schema.String,
    Version: version(),
    CreatedAt: Schema.String,
    UpdatedAt: opt(Schema.String),
    Spec
  })

const task = () =>
  Schema.Struct({
    ID: Schema.String,
    ServiceID: Schema.String,
    NodeID: opt(Schema.String),
    Slot: opt(Schema.Number),
    CreatedAt: opt(Schema.String),
    UpdatedAt: opt(Schema.String),
    DesiredState: Schema.String,
    Labels: nullable(StringMap),
    Status: Schema.Struct({
      Timestamp: opt(Schema.String),
      /** new, pending, assigned, accepted, preparing, starting, running, complete, shutdown, failed, rejected, orphaned … */
      State: Schema.String,
      Message: opt(Schema.String),
      Err: opt(Schema.String),
      ContainerStatus: opt(Schema.Struct({ ContainerID: opt(Schema.String), PID: opt(Schema.Number), ExitCode: opt(Schema.Number) }))
    })
  })

const network = () =>
  Schema.Struct({
    Id: Schema.String,
    Name: Schema.String,
    Driver: Schema.String,
    Scope: opt(Schema.String),
    Attachable: opt(Schema.Boolean),
    Labels: nullable(StringMap)
  })

const swarmInfo = () =>
  Schema.Struct({
    Swarm: Schema.Struct({
      NodeID: opt(Schema.String),
      NodeAddr: opt(Schema.String),
      /** inactive, pending, active, error, locked */
      LocalNodeState: Schema.String,
      ControlAvailable: opt(Schema.Boolean),
      Error: opt(Schema.String)
    }),
    Name: opt(Schema.String),
    SecurityOptions: nullable(Schema.Array(Schema.String))
  })

export type SwarmNode = ReturnType<typeof node>["Type"]
export type SwarmService = ReturnType<typeof service>["Type"]
export type SwarmTask = ReturnType<typeof task>["Type"]
export type SwarmNetwork = ReturnType<typeof network>["Type"]
export type SwarmInfo = ReturnType<typeof swarmInfo>["Type"]

export const SwarmAnswers = {
  node: lazy(node),
  nodes: lazy(() => Schema.Array(node())),
  service: lazy(service),
  services: lazy(() => Schema.Array(service())),
  tasks: lazy(() => Schema.Array(task())),
  network: lazy(network),
  created: lazy(() => Schema.Struct({ ID: Schema.String })),
  networkCreated: lazy(() => Schema.Struct({ Id: Schema.String })),
  updated: lazy(() => Schema.Struct({ Warnings: nullable(Schema.Array(Schema.String)) })),
  info: lazy(swarmInfo)
}
