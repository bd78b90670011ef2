/**
 * The daemon verbs with HAL9000_BACKEND=swarm (loaded by cli/daemonCommand.ts only then): the same outcomes, wording
 * and exit codes as the local ones, naming the service, its node and the network instead of a container and a port.
 */
import { Console, Effect, Layer, Option } from "effect"
import { followLogs } from "../sessions/followLogs.ts"
import { Cluster } from "./Cluster.ts"
import { SwarmParent } from "./parentService.ts"

/** The swarm parent and the cluster under it, over the command's Engine (the manager) and Settings. */
export const withSwarmParent = <A, E, R>(body: Effect.Effect<A, E, R>) =>
  Effect.provide(body, Layer.provideMerge(SwarmParent.layer, Cluster.layer))

export const start = (recreate: boolean) =>
  withSwarmParent(
    Effect.gen(function* () {
      const parent = yield* SwarmParent
      const r = yield* parent.start({ recreate })
      if (r.outcome === "already-running") {
        yield* Console.log(`Parent service '${r.container}' is already running on node ${r.node}; ChromaDB is healthy at ${r.url}`)
      } else {
        yield* Console.log(`Parent service '${r.container}' ${r.outcome} on node ${r.node}; ChromaDB is ready at ${r.url} (network ${parent.network})`)
        yield* Console.log(`Spawn a worker with: claudy /path/to/project   (under the swarm's projects root)`)
      }
    })
  )

/** Stop without a word (restart reports it its own way). */
export const stopped = withSwarmParent(Effect.flatMap(SwarmParent, (p) => Effect.map(p.stop, (outcome) => ({ name: p.name, outcome }))))

export const stop = withSwarmParent(
  Effect.gen(function* () {
    const parent = yield* SwarmParent
    const r = yield* parent.stop
    const text = {
      absent: `Parent service '${parent.name}' does not exist; nothing to stop`,
      "already-stopped": `Parent service '${parent.name}' is already stopped`,
      stopped: `Parent service '${parent.name}' stopped (scaled to 0; volumes kept on its node; start again with: claudy daemon start)`
    }[r]
    yield* Console.log(text)
  })
)

export const status = withSwarmParent(Effect.flatMap(SwarmParent, (p) => p.status))

export const logs = (tail: number, follow: boolean) =>
  withSwarmParent(
    Effect.gen(function* () {
      const parent = yield* SwarmParent
      const c = yield* parent.lastContainer
      if (Option.isNone(c)) return yield* Console.log(`Parent service '${parent.name}' has no task with a container (claudy daemon status)`)
      // the log of a task's container is kept by its node's engine
      if (follow) return yield* followLogs(c.value.engine.address, parent.name, c.value.id, false, tail)
      yield* Console.log((yield* c.value.engine.containerLogs(c.value.id, tail)).trimEnd())
    })
  )
