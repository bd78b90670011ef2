/**
 * The Swarm endpoints claudy uses (API 1.41), through the Engine service's own calls: the same deadlines, transient
 * retries, typed errors and decoded answers as every container call. Sent to a manager; node-local things (attach,
 * resize, a node's volumes) go to that node's engine (Cluster.nodeEngine).
 */
import { Effect } from "effect"
import { ServiceUpdateConflict } from "../domain/errors.ts"
import type { EngineShape } from "../docker/Engine.ts"
import type { Filters } from "../docker/types.ts"
import { type ServiceSpec, SwarmAnswers } from "./types.ts"

/** What the engine says when an update names a version that is no longer current (swarmkit's ErrSequenceConflict). */
const OUT_OF_SEQUENCE = /update out of sequence/i

export const swarmApi = (engine: EngineShape) => {
  const { expect, json, maybe } = engine.call
  const enc = encodeURIComponent
  const filters = (f: Filters) => ({ filters: JSON.stringify(f) })

  /** An update at `version`; a lost compare-and-swap is ServiceUpdateConflict, every other failure as it is. */
  const versioned = (kind: "service" | "node", id: string, version: number, spec: unknown) =>
    expect(`update ${kind}`, { method: "POST", path: `/${kind}s/${enc(id)}/update`, query: { version }, body: spec }, [200]).pipe(
      Effect.catchIf(
        (e) => e._tag === "DockerApiError" && OUT_OF_SEQUENCE.test(e.detail),
        () => Effect.fail(new ServiceUpdateConflict({ kind, id, version }))
      ),
      Effect.asVoid
    )

  return {
    /** /info's swarm part: whether this engine is in a swarm and a manager */
    info: Effect.suspend(() => json("info", { method: "GET", path: "/info" }, SwarmAnswers.info())),
    nodes: (f: Filters = {}) => json("list nodes", { method: "GET", path: "/nodes", query: filters(f) }, SwarmAnswers.nodes()),
    inspectNode: (id: string) => maybe("inspect node", `/nodes/${enc(id)}`, SwarmAnswers.node()),
    /** Replace a node's spec (labels, availability) at `version`. */
    updateNode: (id: string, version: number, spec: unknown) => versioned("node", id, version, spec),

    services: (f: Filters = {}) =>
      json("list services", { method: "GET", path: "/services", query: filters(f) }, SwarmAnswers.services()),
    inspectService: (idOrName: string) => maybe("inspect service", `/services/${enc(idOrName)}`, SwarmAnswers.service()),
    /** 409 when the name is taken (DockerApiError, as for containers). */
    createService: (spec: ServiceSpec) =>
      json("create service", { method: "POST", path: "/services/create", body: spec }, SwarmAnswers.created()),
    /** Replace a service's spec at `version` (a compare-and-swap in the swarm's Raft store). */
    updateService: (id: string, version: number, spec: ServiceSpec) => versioned("service", id, version, spec),
    removeService: (idOrName: string) =>
      expect("remove service", { method: "DELETE", path: `/services/${enc(idOrName)}` }, [200, 404]).pipe(Effect.asVoid),
    tasks: (f: Filters) => json("list tasks", { method: "GET", path: "/tasks", query: filters(f) }, SwarmAnswers.tasks()),

    inspectNetwork: (idOrName: string) => maybe("inspect network", `/networks/${enc(idOrName)}`, SwarmAnswers.network()),
    /** An attachable overlay network (standalone containers may join it too), labelled as ours. */
    createOverlay: (name: string, labels: Record<string, string>) =>
      Effect.map(
        json(
          "create network",
          {
            method: "POST",
            path: "/networks/create",
            body: { Name: name, Driver: "overlay", Attachable: true, CheckDuplicate: true, Labels: labels }
          },
          SwarmAnswers.networkCreated()
        ),
        (r) => r.Id
      )
  }
}

export interface SwarmApi extends ReturnType<typeof swarmApi> {}

