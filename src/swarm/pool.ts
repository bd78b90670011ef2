/**
 * The warm pool on a swarm: warm workers are services labelled `io.hal9000.warm=free`, spread by the scheduler over
 * the nodes that have the project. The manager's pass is the local one's plan (src/pool/plan.ts) over the free ones:
 * one whose node went down or whose task ended is removed and replaced (the scheduler places the new one on a node
 * that is up). Claimed ones are sessions and not the pool's; every removal is itself a claim (claim.ts), so the
 * manager never removes a worker a spawn has just won.
 */
import { Context, Effect, Layer, Option } from "effect"
import { randomBytes } from "node:crypto"
import { Settings } from "../config/Settings.ts"
import type { ServiceUpdateConflict, StateError, UsageError } from "../domain/errors.ts"
import { parentName } from "../domain/names.ts"
import type { EngineError } from "../docker/Engine.ts"
import { readTarget } from "../pool/files.ts"
import { planPool, type PoolAction } from "../pool/plan.ts"
import { Pool } from "../pool/Pool.ts"
import { poolStatusOf } from "../pool/status.ts"
import { fromEither } from "../spawn/request.ts"
import { ownerOf } from "../state/home.ts"
import { VERSION } from "../version.ts"
import { observeWarm } from "./claim.ts"
import { Cluster } from "./Cluster.ts"
import { swarmPoolShape } from "./poolShape.ts"
import { READY_WAIT_MS } from "./handoff.ts"
import { HANDOFF_READY } from "./handoffProtocol.ts"
import { asObservedWarm, claimable, reapingSpec, statusWorker, WARM_LABEL, type WarmService } from "./poolView.ts"
import { placeWorker, swarmProject } from "./spawn.ts"
import { placeProject } from "./spawnPlacement.ts"
import type { ServiceSpec } from "./types.ts"
import { workerService, workerServiceName } from "./workerService.ts"

/** Task states after which a task never runs again. */
const ENDED: ReadonlySet<string> = new Set(["complete", "shutdown", "failed", "rejected", "orphaned", "remove"])

const make = Effect.gen(function* () {
  const { settings } = yield* Settings
  const cluster = yield* Cluster
  const pool = yield* Pool
  const api = cluster.api
  const owner = ownerOf(settings)
  const observe = observeWarm(api, owner)

  /** Remove a free warm service unless a spawn claimed it meanwhile (false then); a reaping one is ours already. */
  const removeWarm = (w: Pick<WarmService, "id" | "version" | "spec" | "state">) =>
    Effect.gen(function* () {
      if (w.state !== "reaping") {
        const won = yield* api.updateService(w.id, w.version, reapingSpec(w.spec) as ServiceSpec).pipe(
          Effect.as(true),
          Effect.catchIf(
            (e) => e._tag === "ServiceUpdateConflict" || (e._tag === "DockerApiError" && e.status === 404),
            () => Effect.succeed(false)
          )
        )
        if (!won) return false
      }
      yield* api.removeService(w.id)
      return true
    })

  /**
   * A warm worker's service for `project`: the pool's shape (swarmPoolShape), placed like a cold session (a node
   * that has the project), labelled free; its slot label is its id, as on one host.
   */
  const warmServiceFor = (project: string) =>
    Effect.gen(function* () {
      const p = yield* swarmProject(project, "/", settings.home)
      const shape = swarmPoolShape(settings, p.dir, p.owner, yield* pool.profileOf(p.dir))
      const { root, candidates } = yield* fromEither(placeProject(p.dir, yield* cluster.nodes, undefined))
      const placement = yield* Effect.provideService(placeWorker(shape, root, candidates, undefined), Cluster, cluster)
      const id = randomBytes(6).toString("hex")
      const spec = workerService(shape, { role: "warm", name: workerServiceName(settings.instance, "warm", id), slot: id, version: VERSION }, placement)
      return { ...spec, Labels: { ...spec.Labels, [WARM_LABEL]: "free" } }
    })
  /** A new warm worker for `project` (not waited for: the scheduler places it, the next claim finds it running). */
  const createWarm = (project: string) => Effect.flatMap(warmServiceFor(project), (spec) => api.createService(spec))

  const act = (a: PoolAction, byId: ReadonlyMap<string, WarmService>): Effect.Effect<void, EngineError | ServiceUpdateConflict | UsageError | StateError> => {
    switch (a._tag) {
      case "create":
        return Effect.asVoid(createWarm(a.project))
      case "remove": {
        const w = byId.get(a.id)
        return w === undefined ? Effect.void : Effect.asVoid(removeWarm(w))
      }
      case "adopt":
        return Effect.void // claimed services are sessions already: never planned here
    }
  }

  /** One manager pass over the swarm: observe, plan (as on one host), act; reaping leftovers of a crash are removed. */
  const reconcile = Effect.gen(function* () {
    const [warm, projects, target, parent] = yield* Effect.all(
      [observe, pool.knownProjects, readTarget(settings.home), api.inspectService(parentName(settings.instance))],
      { concurrency: "unbounded" }
    )
    const free = warm.filter((w) => w.state === "free")
    const actions = planPool(free.map(asObservedWarm), parent._tag === "Some" ? projects : [], {
      target: Math.min(target ?? settings.minWarmWorkers, settings.maxWarmWorkers),
      max: settings.maxWarmWorkers,
      idleTimeoutMs: settings.idleTimeout * 1000,
      nowMs: Date.now()
    })
    const byId = new Map(free.map((w) => [w.id, w]))
    yield* Effect.forEach(actions, (a) => act(a, byId), { concurrency: 4, discard: true })
    yield* Effect.forEach(
      warm.filter((w) => w.state === "reaping"),
      (w) => removeWarm(w),
      { concurrency: 4, discard: true }
    )
    return { actions, parentRunning: parent._tag === "Some", projects }
  })

  /** Remove every free warm service now (`pool cleanup`); claimed ones are sessions. */
  const cleanup = Effect.gen(function* () {
    const removed = yield* Effect.forEach(
      (yield* observe).filter((w) => w.state !== "claimed"),
      (w) => removeWarm(w),
      { concurrency: 4 }
    )
    return removed.filter(Boolean).length
  })

  /** Remove free warm services beyond `target`, oldest first (`pool scale`). */
  const trimTo = (target: number) =>
    Effect.gen(function* () {
      const free = (yield* observe).filter((w) => w.state === "free").sort((a, b) => a.createdAtMs - b.createdAtMs)
      const extra = free.slice(0, Math.max(0, free.length - target))
      const removed = yield* Effect.forEach(extra, (w) => removeWarm(w), { concurrency: 4 })
      return removed.filter(Boolean).length
    })

  /** Ready for a claim: running on a usable node, and its entrypoint has printed its ready line (read on its node). */
  const ready = (w: WarmService) =>
    claimable(w)
      ? Effect.flatMap(cluster.nodeEngine(w.task!.node), (engine) => engine.containerLogs(w.task!.containerId!, 20)).pipe(
          Effect.map((text) => text.includes(HANDOFF_READY)),
          Effect.orElseSucceed(() => false)
        )
      : Effect.succeed(false)

  /**
   * Wait until every free warm service is ready for a claim, or `waitMs` passed (then false). One whose task ended
   * is not waited for (the manager replaces it).
   */
  const awaitFreeReady = (waitMs: number) =>
    Effect.gen(function* () {
      const deadline = Date.now() + waitMs
      for (;;) {
        const free = (yield* observe).filter((w) => w.state === "free" && (w.task === undefined || !ENDED.has(w.task.state)))
        const states = yield* Effect.forEach(free, ready, { concurrency: 4 })
        if (states.every(Boolean)) return true
        if (Date.now() >= deadline) return false
        yield* Effect.sleep("250 millis")
      }
    })

  /**
   * `pool warm`: a warm worker for each of `dirs` now (up to MAX_WARM_WORKERS), or without dirs one pass that fills
   * the pool to its target; then waits until they are ready for a claim. Nothing without the parent service.
   */
  const warm = (dirs: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      if (Option.isNone(yield* api.inspectService(parentName(settings.instance)))) return { made: 0, parentRunning: false, capped: false }
      const idle = (yield* observe).filter((w) => w.state === "free" && claimable(w)).length
      const room = Math.max(0, settings.maxWarmWorkers - idle)
      const created = yield* Effect.forEach(dirs.slice(0, room), createWarm, { concurrency: 4 })
      const pass = dirs.length === 0 ? yield* reconcile : undefined
      const ok = yield* awaitFreeReady(READY_WAIT_MS * 3)
      if (!ok) yield* Effect.logWarning("some warm workers were not ready for a claim yet (claudy pool status shows them)")
      return { made: created.length + (pass?.actions.filter((a) => a._tag === "create").length ?? 0), parentRunning: true, capped: dirs.length > room }
    })

  /** `pool status` over the swarm's warm services, each with its node. */
  const status = poolStatusOf(Effect.map(observe, (ws) => ws.map(statusWorker)))

  return { observe, reconcile, cleanup, trimTo, createWarm, removeWarm, warm, status }
})

/**
 * The swarm pool for a command of HAL9000_BACKEND=swarm, after checking that DOCKER_HOST is a manager (a clear error
 * otherwise); the Cluster is made here, so nothing of it is built for the local backend.
 */
export const swarmPool = Effect.gen(function* () {
  const cluster = yield* Cluster.make
  yield* cluster.requireManager
  return yield* Effect.provideService(make, Cluster, cluster)
})

export class SwarmPool extends Context.Tag("claudy/SwarmPool")<SwarmPool, Effect.Effect.Success<typeof make>>() {
  static make = make
  static layer = Layer.effect(SwarmPool, make)
}
