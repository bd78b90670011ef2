/**
 * The swarm a `HAL9000_BACKEND=swarm` command works on: the manager named by DOCKER_HOST (services, tasks, nodes,
 * networks, logs) and each node's own engine (attach, resize, a node's volumes), found from the node's
 * `io.hal9000.engine` label. Nothing here runs for the local backend.
 */
import { Context, Effect, Either, Layer, Option } from "effect"
import { SwarmNodeUnreachable, SwarmUnavailable } from "../domain/errors.ts"
import { parseDockerHost } from "../docker/address.ts"
import { Engine, engineAt, type EngineShape } from "../docker/Engine.ts"
import { swarmApi } from "./api.ts"
import { NODE_LABEL } from "./nodeLabels.ts"
import type { SwarmNode } from "./types.ts"

const make = Effect.gen(function* () {
  const manager = yield* Engine
  const api = swarmApi(manager)
  const display = manager.address.display

  /** DOCKER_HOST must be a manager of an active swarm: anything else is refused before a command does anything. */
  const requireManager = Effect.gen(function* () {
    const info = yield* api.info
    if (info.Swarm.LocalNodeState !== "active") {
      return yield* new SwarmUnavailable({
        address: display,
        detail: `the engine is not in a swarm (state: ${info.Swarm.LocalNodeState})`,
        fix: "point DOCKER_HOST at a swarm manager (docker swarm init makes one), or use HAL9000_BACKEND=local"
      })
    }
    if (info.Swarm.ControlAvailable !== true) {
      return yield* new SwarmUnavailable({
        address: display,
        detail: "the engine is a swarm worker, not a manager",
        fix: "point DOCKER_HOST at a manager node (docker node ls on a manager lists them)"
      })
    }
    return info
  })

  /** Engines are made once per node address: a command talks to a node's engine many times (attach, resize). */
  const engines = new Map<string, EngineShape>()
  const engineOf = (node: SwarmNode): Effect.Effect<EngineShape, SwarmNodeUnreachable> => {
    const name = node.Description.Hostname
    const raw = node.Spec.Labels?.[NODE_LABEL.engine]
    if (raw === undefined || raw === "") {
      return Effect.fail(new SwarmNodeUnreachable({ node: name, detail: `it has no ${NODE_LABEL.engine} label` }))
    }
    return Either.match(parseDockerHost(raw), {
      onLeft: (fix) => Effect.fail(new SwarmNodeUnreachable({ node: name, detail: `its ${NODE_LABEL.engine} label '${raw}' is not usable: ${fix}` })),
      onRight: (address) => {
        const known = engines.get(raw) ?? engineAt(address)
        engines.set(raw, known)
        return Effect.succeed(known)
      }
    })
  }

  /** The engine of the node with this id (or hostname). */
  const nodeEngine = (nodeId: string) =>
    Effect.flatMap(api.inspectNode(nodeId), (node) =>
      Option.match(node, {
        onNone: () => Effect.fail(new SwarmNodeUnreachable({ node: nodeId, detail: "the swarm has no such node" })),
        onSome: engineOf
      })
    )

  return { manager, api, requireManager, nodes: api.nodes(), nodeEngine, engineOf }
})

export class Cluster extends Context.Tag("claudy/Cluster")<Cluster, Effect.Effect.Success<typeof make>>() {
  static make = make
  static layer = Layer.effect(Cluster, make)
}
