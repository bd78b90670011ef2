/**
 * The parent on a swarm (HAL9000_BACKEND=swarm): a one-replica service running ChromaDB, pinned by the node label
 * `io.hal9000.parent.<instance>=true` to the node that holds its volumes, on the instance's attachable overlay network.
 * The same verbs as the local parent (src/daemon/Parent.ts) with the same outcomes: start creates or starts it and
 * waits for ChromaDB; stop scales it to 0 and waits for the task to end (its files at rest, volumes kept); status
 * reads the service, its task, the node and ChromaDB's heartbeat from inside the task (parentProbe.ts).
 * Everything is found by name and checked by label, as locally: a same-named object claudy did not create is refused.
 */
import { Context, Duration, Effect, Layer, Option, Schedule } from "effect"
import { Settings } from "../config/Settings.ts"
import type { ParentStatus, StartOutcome } from "../daemon/Parent.ts"
import { ChromaStartTimeout, DockerTimeout, ForeignObject, ParentConfigDiffers, UsageError } from "../domain/errors.ts"
import { describeOwner, LABEL, ownerFilter, ownerLabels, ownershipOf } from "../domain/labels.ts"
import { parentName, VOLUME_ROLES, volumeName } from "../domain/names.ts"
import { Engine, type EngineShape } from "../docker/Engine.ts"
import { lastLines } from "../docker/logStream.ts"
import { ownedVolume } from "../docker/ownedVolume.ts"
import { Images } from "../images/Images.ts"
import { pullPolicy } from "../images/pullPolicy.ts"
import { ensureHome, ownerOf } from "../state/home.ts"
import { VERSION } from "../version.ts"
import { Cluster } from "./Cluster.ts"
import { NODE_LABEL } from "./nodeLabels.ts"
import { type Probe, probeParent } from "./parentProbe.ts"
import { IMAGE_LABEL, parentNetworkName, parentServiceDifferences, parentServiceSpec, swarmChromaUrl } from "./parentSpec.ts"
import type { ServiceSpec, SwarmNode, SwarmService, SwarmTask } from "./types.ts"

/** `daemon status` on a swarm: the local shape, plus where the parent runs. */
export interface SwarmParentStatus extends ParentStatus {
  readonly backend: "swarm"
  /** the node running the parent's task, or (stopped) the node holding its volumes */
  readonly node?: string
  readonly network: string
}

/** Task states in which a task's container may still run (swarmkit's states up to `running`). */
const LIVE = new Set(["new", "pending", "assigned", "accepted", "ready", "preparing", "starting", "running"])

const replicasOf = (spec: ServiceSpec) => (spec.Mode as { Replicated?: { Replicas?: number } } | undefined)?.Replicated?.Replicas ?? 1
const withReplicas = (spec: ServiceSpec, replicas: 0 | 1): ServiceSpec => ({ ...spec, Mode: { Replicated: { Replicas: replicas } } })

/** How long a stopped task may take to end: the parent's stop grace (10 s) and the engine's own calls. */
const STOP_WAIT = Duration.seconds(40)

const make = Effect.gen(function* () {
  const cluster = yield* Cluster
  const { api } = cluster
  const { settings } = yield* Settings
  const owner = ownerOf(settings)
  const name = parentName(settings.instance)
  const network = parentNetworkName(settings.instance)
  const holderLabel = NODE_LABEL.parentOf(settings.instance)
  const url = swarmChromaUrl(settings.instance, settings.chromadbPort)
  const display = cluster.manager.address.display

  /** The parent service if it exists and is ours; a foreign or other-home service of that name is an error. */
  const findOwned = Effect.gen(function* () {
    const found = yield* api.inspectService(name)
    if (Option.isNone(found)) return Option.none<SwarmService>()
    const ownership = ownershipOf(found.value.Spec.Labels, owner)
    if (ownership !== "ours") return yield* new ForeignObject({ kind: "service", name, owner: describeOwner(found.value.Spec.Labels, ownership) })
    return found
  })

  const holders = (nodes: ReadonlyArray<SwarmNode>) => nodes.filter((n) => n.Spec.Labels?.[holderLabel] === "true")

  /** The node holding the parent's volumes, if one is labelled; two are a mistake the user must settle. */
  const labelledNode = (nodes: ReadonlyArray<SwarmNode>) => {
    const held = holders(nodes)
    if (held.length <= 1) return Effect.succeed(Option.fromNullable(held[0]))
    const names = held.map((n) => n.Description.Hostname).sort().join(", ")
    return Effect.fail(
      new UsageError({
        detail: `${held.length} swarm nodes (${names}) carry ${holderLabel}=true: the parent's volumes are on one node only`,
        fix: `keep the label on the node that has the data and remove it from the others: docker node update --label-rm ${holderLabel} NODE`
      })
    )
  }

  /** The node labelled as holding the parent's volumes, if any (nothing is changed). */
  const labelledHolder = Effect.gen(function* () {
    yield* cluster.requireManager
    return yield* labelledNode(yield* cluster.nodes)
  })

  /** The labelled node; with none, the manager's own node, labelled now (its engine then holds the volumes). */
  const holderNode = Effect.gen(function* () {
    const info = yield* cluster.requireManager
    const nodes = yield* cluster.nodes
    const held = yield* labelledNode(nodes)
    if (Option.isSome(held)) return held.value
    const self = nodes.find((n) => n.ID === info.Swarm.NodeID)
    if (self === undefined) return yield* new UsageError({ detail: "the manager is not in its own node list", fix: "docker node ls on the manager" })
    yield* api.updateNode(self.ID, self.Version.Index, { ...self.Spec, Labels: { ...self.Spec.Labels, [holderLabel]: "true" } })
    yield* Effect.logInfo(`labelled node ${self.Description.Hostname} ${holderLabel}=true: it holds the parent's volumes`)
    return self
  })

  const ensureVolumes = (engine: EngineShape) =>
    Effect.forEach(VOLUME_ROLES, (role) =>
      Effect.gen(function* () {
        const vname = volumeName(settings.instance, role)
        if (Option.isSome(yield* ownedVolume(engine, owner, vname))) return
        yield* engine.createVolume(vname, ownerLabels(owner, "volume", VERSION))
        yield* Effect.logInfo(`created volume ${vname} on ${engine.address.display}`)
      })
    )

  /** The instance's overlay network (made once, attachable); its id. One of that name that is not ours is refused. */
  const ensureNetwork = Effect.gen(function* () {
    const found = yield* api.inspectNetwork(network)
    if (Option.isNone(found)) {
      const id = yield* api.createOverlay(network, ownerLabels(owner, "parent", VERSION))
      yield* Effect.logInfo(`created overlay network ${network}`)
      return id
    }
    const ownership = ownershipOf(found.value.Labels, owner)
    if (ownership !== "ours" || found.value.Driver !== "overlay") {
      return yield* new ForeignObject({
        kind: "network",
        name: network,
        owner: ownership === "ours" ? `its driver is ${found.value.Driver}, not overlay` : describeOwner(found.value.Labels, ownership)
      })
    }
    return found.value.Id
  })

  /** Tasks of these services; none for a service that does not exist (the engine answers 404 for a filter on it). */
  const tasksOfServices = (services: ReadonlyArray<string>, more: Record<string, ReadonlyArray<string>> = {}) =>
    api.tasks({ service: [...services], ...more }).pipe(
      Effect.catchIf((e) => e._tag === "DockerApiError" && e.status === 404, () => Effect.succeed<ReadonlyArray<SwarmTask>>([]))
    )
  const tasksOf = tasksOfServices([name])
  const runningTask = (tasks: ReadonlyArray<SwarmTask>) =>
    tasks.find((t) => t.DesiredState === "running" && t.Status.State === "running" && t.Status.ContainerStatus?.ContainerID)
  /** The newest task that had a container: the one whose log says why ChromaDB is not up. */
  const latestWithContainer = (tasks: ReadonlyArray<SwarmTask>) =>
    [...tasks]
      .filter((t) => t.Status.ContainerStatus?.ContainerID)
      .sort((a, b) => (b.UpdatedAt ?? "").localeCompare(a.UpdatedAt ?? ""))[0]

  const nodeEngineOf = (nodes: ReadonlyArray<SwarmNode>, nodeId: string | undefined) => {
    const node = nodes.find((n) => n.ID === nodeId)
    return node === undefined ? cluster.nodeEngine(nodeId ?? "") : cluster.engineOf(node)
  }

  /**
   * Wait until a task runs and ChromaDB answers inside it by the service's name, within CHROMADB_START_TIMEOUT. When it
   * does not: the task's last log lines and the swarm's reason (no node satisfies the placement, image missing, exit).
   */
  const waitReady = Effect.gen(function* () {
    const nodes = yield* cluster.nodes
    let why: string | undefined
    const once = Effect.gen(function* () {
      const tasks = yield* tasksOf
      const failed = [...tasks].sort((a, b) => (b.UpdatedAt ?? "").localeCompare(a.UpdatedAt ?? "")).find((t) => t.Status.Err)
      if (failed) why = `the swarm reports for its task: ${failed.Status.Err}`
      const pending = tasks.find((t) => t.DesiredState === "running" && t.Status.State === "pending" && t.Status.Message)
      if (pending && !failed) why = `its task is pending: ${pending.Status.Err ?? pending.Status.Message}`
      const task = runningTask(tasks)
      if (task === undefined) return Option.none<{ readonly node: string; readonly probe: Probe }>()
      const engine = yield* nodeEngineOf(nodes, task.NodeID)
      const probe = yield* probeParent(engine, task.Status.ContainerStatus!.ContainerID!, url)
      if (!probe.ok) {
        why = ["127.0.0.1", "localhost", "::1"].includes(settings.chromadbHost)
          ? `CHROMADB_HOST=${settings.chromadbHost} binds ChromaDB to its task's own loopback, which the overlay network cannot reach; use CHROMADB_HOST=0.0.0.0`
          : `ChromaDB does not answer at ${url} inside its task (${probe.error ?? "no answer"})`
        return Option.none()
      }
      const node = nodes.find((n) => n.ID === task.NodeID)?.Description.Hostname ?? task.NodeID ?? "?"
      return Option.some({ node, probe })
    })
    const ready = yield* once.pipe(
      Effect.flatten,
      // not yet (None), or an engine call failed on the way: asked again until the deadline
      Effect.tapError((e) => Effect.sync(() => (why = e._tag === "NoSuchElementException" ? why : e.message))),
      Effect.retry(Schedule.spaced(Duration.millis(200))),
      Effect.timeout(Duration.seconds(settings.chromadbStartTimeout)),
      Effect.option
    )
    if (Option.isSome(ready)) return ready.value
    const last = latestWithContainer(yield* tasksOf)
    const logs = last
      ? yield* Effect.flatMap(nodeEngineOf(nodes, last.NodeID), (e) => e.containerLogs(last.Status.ContainerStatus!.ContainerID!, 20)).pipe(
          Effect.orElseSucceed(() => "")
        )
      : ""
    return yield* new ChromaStartTimeout({
      container: name,
      seconds: settings.chromadbStartTimeout,
      url,
      logTail: lastLines(logs, 20),
      ...(why ? { likelyCause: why } : {})
    })
  })

  const start = (opts: { readonly recreate: boolean }) =>
    Effect.gen(function* () {
      yield* ensureHome(settings)
      const holder = yield* holderNode
      const existing = yield* findOwned
      const engine = yield* cluster.engineOf(holder)
      // the image must be on the node that runs the parent: checked (or pulled) there, and named by its id there
      const nodeImages = yield* Effect.provideService(Images.make, Engine, engine)
      const image = yield* nodeImages.ensure(settings.parentImage, "parent", pullPolicy(settings, "parent"))
      const imageRef = Option.match(image, { onNone: () => settings.parentImage, onSome: (i) => i.Id })
      yield* ensureVolumes(engine)
      const networkId = yield* ensureNetwork
      const spec = parentServiceSpec(settings, owner, VERSION, imageRef)

      let outcome: StartOutcome
      if (Option.isNone(existing)) {
        yield* api.createService(spec.body(1) as unknown as ServiceSpec)
        outcome = "created"
      } else {
        const current = existing.value
        const differences = parentServiceDifferences(spec, current.Spec, settings.parentImage, networkId)
        if (differences.length > 0) {
          if (!opts.recreate) return yield* new ParentConfigDiffers({ container: name, differences })
          yield* Effect.logInfo(`updating ${name}: ${differences.join("; ")}`)
          // an update replaces the task (stop first, then start) with the new spec; the volumes stay on the node
          yield* api.updateService(current.ID, current.Version.Index, spec.body(1) as unknown as ServiceSpec)
          outcome = "recreated"
        } else if (replicasOf(current.Spec) === 0) {
          yield* api.updateService(current.ID, current.Version.Index, withReplicas(current.Spec, 1))
          outcome = "started"
        } else {
          const task = runningTask(yield* tasksOf)
          if (task !== undefined) {
            const probe = yield* probeParent(yield* nodeEngineOf([holder], task.NodeID), task.Status.ContainerStatus!.ContainerID!, url)
            if (probe.ok) return { outcome: "already-running" as const, port: spec.port, container: name, url, node: holder.Description.Hostname }
          }
          outcome = "started"
        }
      }
      const ready = yield* waitReady
      return { outcome, port: spec.port, container: name, url, node: ready.node }
    })

  /** Wait until no task of the service may still run (its container stopped: ChromaDB's files are at rest). */
  const waitStopped = tasksOf.pipe(
    Effect.repeat({ schedule: Schedule.spaced(Duration.millis(200)), until: (tasks) => !tasks.some((t) => LIVE.has(t.Status.State)) }),
    Effect.timeoutFail({
      duration: STOP_WAIT,
      onTimeout: () => new DockerTimeout({ address: display, operation: `stop of the parent service ${name}'s task`, seconds: Duration.toSeconds(STOP_WAIT) })
    }),
    Effect.asVoid
  )

  const stop = Effect.gen(function* () {
    yield* cluster.requireManager
    const existing = yield* findOwned
    if (Option.isNone(existing)) return "absent" as const
    const current = existing.value
    if (replicasOf(current.Spec) === 0) {
      if (!(yield* tasksOf).some((t) => LIVE.has(t.Status.State))) return "already-stopped" as const
    } else {
      yield* api.updateService(current.ID, current.Version.Index, withReplicas(current.Spec, 0))
    }
    yield* waitStopped
    return "stopped" as const
  })

  /** The container of the parent's running task (else its latest one) and that node's engine: for logs. */
  const lastContainer = Effect.gen(function* () {
    yield* cluster.requireManager
    const tasks = yield* tasksOf
    const task = runningTask(tasks) ?? latestWithContainer(tasks)
    if (task === undefined) return Option.none<{ readonly engine: EngineShape; readonly id: string }>()
    const engine = yield* nodeEngineOf(yield* cluster.nodes, task.NodeID)
    return Option.some({ engine, id: task.Status.ContainerStatus!.ContainerID! })
  })

  const sessionsRunning = Effect.gen(function* () {
    const sessions = (yield* api.services({ label: [...ownerFilter(owner).label, LABEL.session] })).filter((s) => s.Spec.Labels?.[LABEL.session])
    if (sessions.length === 0) return { total: 0, running: 0 }
    const tasks = yield* tasksOfServices(sessions.map((s) => s.Spec.Name), { "desired-state": ["running"] })
    const running = new Set(tasks.filter((t) => t.Status.State === "running").map((t) => t.ServiceID))
    return { total: sessions.length, running: sessions.filter((s) => running.has(s.ID)).length }
  })

  const status = Effect.gen(function* () {
    yield* cluster.requireManager
    const [found, nodes, tasks, sessions] = yield* Effect.all([findOwned, cluster.nodes, tasksOf, sessionsRunning], { concurrency: "unbounded" })
    const holder = yield* labelledNode(nodes)
    const task = runningTask(tasks)
    const taskNode = nodes.find((n) => n.ID === task?.NodeID)
    const node = (taskNode ?? Option.getOrUndefined(holder))?.Description.Hostname
    const volumeNode = taskNode ?? Option.getOrUndefined(holder)
    const [volumes, probe] = yield* Effect.all(
      [
        // our volumes on the node that holds them: a same-named volume that is not ours counts as missing
        volumeNode === undefined
          ? Effect.succeed(VOLUME_ROLES.map((role) => ({ name: volumeName(settings.instance, role), present: false })))
          : Effect.flatMap(cluster.engineOf(volumeNode), (e) => e.listVolumes(ownerFilter(owner, "volume"))).pipe(
              Effect.map((ours) => VOLUME_ROLES.map((role) => ({ name: volumeName(settings.instance, role), present: ours.some((v) => v.Name === volumeName(settings.instance, role)) })))
            ),
        task === undefined || taskNode === undefined
          ? Effect.succeed<Probe>({ ok: false, ms: 0, error: "parent not running" })
          : Effect.flatMap(cluster.engineOf(taskNode), (e) => probeParent(e, task.Status.ContainerStatus!.ContainerID!, url))
      ],
      { concurrency: "unbounded" }
    )
    const workers = { ...sessions, orphanedNetwork: 0, viaParentSessions: [], orphanedSessions: [] }
    const base = { backend: "swarm" as const, container: name, network, port: settings.chromadbPort, volumes, workers, ...(node ? { node } : {}) }
    if (Option.isNone(found)) {
      const absent: SwarmParentStatus = { ...base, state: "absent", healthy: false, chromadb: { url, heartbeat: false } }
      return absent
    }
    const svc = found.value
    const state: ParentStatus["state"] = task !== undefined ? "running" : replicasOf(svc.Spec) === 0 ? "stopped" : "restarting"
    const startedAt = task?.Status.Timestamp
    const uptime = state === "running" && startedAt ? Math.max(0, Math.round((Date.now() - Date.parse(startedAt)) / 1000)) : undefined
    const containerSpec = (svc.Spec.TaskTemplate as { ContainerSpec?: { Image?: string } } | undefined)?.ContainerSpec
    const present: SwarmParentStatus = {
      ...base,
      state,
      healthy: state === "running" && probe.ok,
      id: svc.ID.slice(0, 12),
      ...(startedAt && state === "running" ? { startedAt } : {}),
      ...(uptime !== undefined ? { uptimeSeconds: uptime } : {}),
      // tasks the swarm replaced after a failure (it keeps the last few)
      restartCount: tasks.filter((t) => t.Status.State === "failed").length,
      ...(svc.Spec.Labels?.[IMAGE_LABEL] ? { image: svc.Spec.Labels[IMAGE_LABEL] } : {}),
      ...(containerSpec?.Image ? { imageId: containerSpec.Image } : {}),
      chromadb: {
        url,
        heartbeat: probe.ok,
        ...(probe.ok ? { heartbeatMs: probe.ms } : {}),
        ...(probe.version ? { version: probe.version } : {}),
        ...(probe.error ? { error: probe.error } : {})
      }
    }
    return present
  })

  return { name, network, url, owner, start, stop, status, lastContainer, holderNode, labelledHolder }
})

export class SwarmParent extends Context.Tag("claudy/SwarmParent")<SwarmParent, Effect.Effect.Success<typeof make>>() {
  static make = make
  static layer = Layer.effect(SwarmParent, make)
}
