/**
 * Sessions on a swarm: the labelled services of this HAL9000_HOME and instance (cold `-worker-` ones and claimed
 * warm ones alike, found by their io.hal9000.session label), each with its newest task. The swarm's store is the
 * truth: no record files (the client may be on any machine). A session's container is looked at on its node's
 * engine (state, exit code, OOM as on one host); attach, shell and stop go there too, logs through the manager.
 */
import { Context, Effect, Layer, Option } from "effect"
import { Settings } from "../config/Settings.ts"
import { SessionNotFound } from "../domain/errors.ts"
import { LABEL, ownerFilter } from "../domain/labels.ts"
import type { EngineAddress } from "../docker/address.ts"
import { demuxFrames } from "../docker/logStream.ts"
import type { LogWindow } from "../docker/types.ts"
import { followLogs } from "../sessions/followLogs.ts"
import { limitEvidence } from "../sessions/limitHits.ts"
import type { SessionView } from "../sessions/Sessions.ts"
import { ownerOf } from "../state/home.ts"
import { Cluster } from "./Cluster.ts"
import { latestTask } from "./sessionTask.ts"
import { recordFromService, recordFromTaskContainer, statusOfTask } from "./sessionView.ts"
import type { SwarmNode, SwarmService, SwarmTask } from "./types.ts"

/** Where a session's container is, for attach, shell and stop. */
export interface SessionTarget {
  readonly view: SessionView
  readonly service: SwarmService
  readonly address: EngineAddress
  readonly containerId: string
  readonly user: string
}

/** Whether the service's task has a TTY (its logs are then one raw stream, not multiplexed). */
const serviceTty = (svc: SwarmService) =>
  (svc.Spec as { readonly TaskTemplate?: { readonly ContainerSpec?: { readonly TTY?: boolean } } }).TaskTemplate?.ContainerSpec?.TTY === true

const make = Effect.gen(function* () {
  const cluster = yield* Cluster
  const { settings } = yield* Settings
  const owner = ownerOf(settings)
  const api = cluster.api

  const ours = (extra: ReadonlyArray<string> = []) =>
    Effect.map(api.services({ label: [...ownerFilter(owner).label, ...extra] }), (all) => all.filter((s) => s.Spec.Labels?.[LABEL.session]))

  /** One session's view, and its container on its node when that node's engine shows it. */
  const viewOf = (svc: SwarmService, tasks: ReadonlyArray<SwarmTask>, nodes: ReadonlyArray<SwarmNode>) =>
    Effect.gen(function* () {
      const session = svc.Spec.Labels![LABEL.session]!
      const task = latestTask(tasks.filter((t) => t.ServiceID === svc.ID))
      const node = nodes.find((n) => n.ID === task?.NodeID)
      const hostname = node?.Description.Hostname ?? null
      const now = new Date().toISOString()
      const containerId = task?.Status.ContainerStatus?.ContainerID
      const down = node !== undefined && node.Status.State !== "ready"
      if (node !== undefined && !down && containerId) {
        const found = yield* Effect.either(
          Effect.flatMap(cluster.engineOf(node), (engine) =>
            Effect.map(engine.inspectContainer(containerId), (c) => Option.map(c, (container) => ({ engine, container })))
          )
        )
        if (found._tag === "Left") {
          // its engine does not answer: the session cannot be reached, whatever the manager last heard
          const record = recordFromService(svc, task, "lost", hostname, now)
          return { view: { record, rebuilt: false, running: false, tty: false } satisfies SessionView, container: Option.none() }
        }
        if (Option.isSome(found.right)) {
          const { engine, container } = found.right.value
          const evidence = yield* limitEvidence(engine, container)
          const record = recordFromTaskContainer(container, evidence, session, hostname, now)
          const view: SessionView = { record, rebuilt: false, running: container.State.Running, tty: container.Config.Tty ?? false }
          return { view, container: Option.some({ address: engine.address, id: container.Id, user: container.Config.User ?? "" }) }
        }
      }
      const record = recordFromService(svc, task, statusOfTask(task, down), hostname, now)
      return { view: { record, rebuilt: false, running: false, tty: false } satisfies SessionView, container: Option.none() }
    })

  const viewsOf = (services: ReadonlyArray<SwarmService>) =>
    Effect.gen(function* () {
      if (services.length === 0) return []
      const [tasks, nodes] = yield* Effect.all([api.tasks({ service: services.map((s) => s.ID) }), cluster.nodes], { concurrency: 2 })
      return yield* Effect.forEach(services, (s) => Effect.map(viewOf(s, tasks, nodes), (v) => ({ ...v, service: s })), { concurrency: 8 })
    })

  const list = Effect.gen(function* () {
    const views = (yield* viewsOf(yield* ours())).map((v) => v.view)
    views.sort((a, b) => a.record.created_at.localeCompare(b.record.created_at) || a.record.name.localeCompare(b.record.name))
    return { sessions: views, skipped: [] as ReadonlyArray<{ readonly file: string; readonly reason: string }> }
  })

  /** The session's service, view and container (if its node shows it); SessionNotFound when there is none. */
  const find = (name: string) =>
    Effect.gen(function* () {
      const found = yield* viewsOf(yield* ours([`${LABEL.session}=${name}`]))
      const newest = found.sort((a, b) => b.service.CreatedAt.localeCompare(a.service.CreatedAt))[0]
      if (newest === undefined) return yield* new SessionNotFound({ name })
      return newest
    })

  const get = (name: string) => Effect.map(find(name), (f) => f.view)

  /** Where the running session's container is; Option.none() with its view when it is not running. */
  const target = (name: string) =>
    Effect.map(find(name), (f) =>
      Option.isSome(f.container) && f.view.running
        ? { _tag: "running" as const, target: { view: f.view, service: f.service, address: f.container.value.address, containerId: f.container.value.id, user: f.container.value.user } satisfies SessionTarget }
        : { _tag: "not-running" as const, view: f.view }
    )

  /** Stop the container on its node, as `docker stop` (the service stays: restart none, so it is not replaced). */
  const stop = (name: string) =>
    Effect.gen(function* () {
      const f = yield* find(name)
      if (Option.isSome(f.container) && f.view.running) {
        const node = (yield* cluster.nodes).find((n) => n.Description.Hostname === f.view.record.node)
        if (node !== undefined) yield* (yield* cluster.engineOf(node)).stopContainer(f.container.value.id, 10)
      }
      return yield* get(name)
    })

  /** Remove the session's service (the swarm removes its task container); a running one is stopped first unless forced. */
  const remove = (name: string, force: boolean) =>
    Effect.gen(function* () {
      const f = yield* find(name)
      if (!force && f.view.running) yield* stop(name)
      yield* api.removeService(f.service.ID)
    })

  /** The session's output through the manager (the service's logs: any node, no node engine needed). */
  const logs = (name: string, tail: number, window: LogWindow = {}) =>
    Effect.gen(function* () {
      const f = yield* find(name)
      const res = yield* cluster.manager.call.expect(
        "service logs",
        { method: "GET", path: `/services/${encodeURIComponent(f.service.ID)}/logs`, query: { stdout: true, stderr: true, tail, ...window } },
        [200]
      )
      return demuxFrames(res.body)
    })

  /**
   * `logs -f` through the manager. A service's log stream does not end with its task: it ends here once the session
   * no longer runs, after a second for the last lines to come through.
   */
  const follow = (name: string, tail: number, window: LogWindow = {}) =>
    Effect.gen(function* () {
      const f = yield* find(name)
      const ended = Effect.gen(function* () {
        while ((yield* get(name)).running) yield* Effect.sleep("500 millis")
        yield* Effect.sleep("1 second")
      })
      yield* Effect.raceFirst(followLogs(cluster.manager.address, name, f.service.ID, serviceTty(f.service), tail, window, "service"), ended)
      return ""
    })

  return { list, get, find, target, stop, remove, logs, follow, owner }
})

export class SwarmSessions extends Context.Tag("claudy/SwarmSessions")<SwarmSessions, Effect.Effect.Success<typeof make>>() {
  static make = make
  /** Needs the Cluster (its layer is provided with it) and Settings. */
  static layer = Layer.effect(SwarmSessions, make).pipe(Layer.provideMerge(Cluster.layer))
}
