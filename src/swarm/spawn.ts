/**
 * A cold spawn on a swarm: every check first (request, project under a projects root, nodes that have it, parent,
 * existing session), then one service of one replica, placed by the swarm on a node that has the project; once
 * its task runs, the session is handed to it on its stdin through that node's engine, and the terminal is attached
 * there (or, detached, claudy returns). Until the hand-off, any failure or Ctrl-C removes the service.
 */
import { Deferred, Effect, Exit, Fiber, Option } from "effect"
import { existsSync } from "node:fs"
import { homedir } from "node:os"
import { resolve } from "node:path"
import { Settings } from "../config/Settings.ts"
import { type AttachFailed, type DockerApiError, ParentNotRunning, SessionNameTaken, UsageError } from "../domain/errors.ts"
import { ownershipOf } from "../domain/labels.ts"
import { parentName } from "../domain/names.ts"
import { logSpawned } from "../pool/files.ts"
import { type AttachResult, attachSession } from "../spawn/attach.ts"
import { imageForProfile } from "../spawn/profileImage.ts"
import { refusedReason, resolveProject } from "../spawn/projectPath.ts"
import { checkRequest, decideShape, fromEither, planSession, type SpawnRequest } from "../spawn/request.ts"
import type { SpawnResult } from "../spawn/Spawner.ts"
import { IMAGE_USER, type WorkerShape, workerUser } from "../spawn/workerSpec.ts"
import { ownerOf } from "../state/home.ts"
import { VERSION } from "../version.ts"
import { Cluster } from "./Cluster.ts"
import { deliverOn, handOff } from "./handoff.ts"
import { stdinFrame } from "./handoffProtocol.ts"
import { SwarmSessions } from "./sessions.ts"
import { awaitRunning } from "./sessionTask.ts"
import { placeProject } from "./spawnPlacement.ts"
import { probeNodes } from "./spawnProbe.ts"
import { claimWarm } from "./claim.ts"
import { swarmPoolShape } from "./poolShape.ts"
import type { SwarmNode } from "./types.ts"
import { workerService, workerServiceFingerprint, workerServiceName } from "./workerService.ts"

/** How long a new session's task may take to be placed and started (the image is on the nodes already). */
const START_WAIT_MS = 60_000

/**
 * The project as the nodes will see it: resolved and guarded on this machine when it has it (the lab, a client on
 * a node); otherwise the absolute path as given, guarded by name, run as the image's user.
 */
export const swarmProject = (raw: string, cwd: string, halHome: string) =>
  Effect.gen(function* () {
    const given = resolve(cwd, raw)
    if (existsSync(given)) return yield* resolveProject(raw, cwd, { userHome: homedir(), halHome })
    const why = refusedReason(given, { userHome: homedir(), halHome })
    if (why !== undefined) {
      return yield* new UsageError({ detail: `refusing to mount ${given} into a worker: ${why}`, fix: "pass the project's own directory under the projects root" })
    }
    return { dir: given, owner: IMAGE_USER }
  })

export const spawnOnSwarm = (req: SpawnRequest) =>
  Effect.gen(function* () {
    const startedAt = performance.now()
    const cluster = yield* Cluster
    const sessions = yield* SwarmSessions
    const { settings } = yield* Settings
    const owner = ownerOf(settings)
    const instance = settings.instance

    // 1. Everything that needs no engine.
    const { limits, env, apiKey } = yield* checkRequest(req, settings)
    const project = yield* swarmProject(req.path, req.cwd, settings.home)
    const { session, byProject, choice } = yield* planSession(req, project.dir, settings.home)
    const user = workerUser(project.owner)
    const name = workerServiceName(instance, "worker", session)

    // 2. The swarm: a manager, the nodes that may run the project, the parent, an earlier session of this name.
    yield* cluster.requireManager
    const [nodes, existing, profiled] = yield* Effect.all(
      [
        cluster.nodes,
        Effect.option(sessions.find(session)),
        choice === undefined ? Effect.succeed(undefined) : imageForProfile(cluster.manager, settings.workerImage, choice),
        req.viaParent ? checkParentService(instance, owner) : Effect.void
      ],
      { concurrency: "unbounded" }
    )
    const { root, candidates } = yield* fromEither(placeProject(project.dir, nodes, req.node))
    if (Option.isSome(existing)) {
      const e = existing.value
      if (!byProject) {
        return yield* new SessionNameTaken({ name: session, container: e.service.Spec.Name, project: e.view.record.project_dir, state: e.view.record.status })
      }
      if (e.view.running && Option.isSome(e.container)) {
        return {
          _tag: "running",
          session,
          containerId: e.container.value.id,
          tty: e.view.tty,
          project: project.dir,
          address: e.container.value.address
        } satisfies SpawnResult
      }
      // The project's session has ended: a new one takes its name.
      yield* cluster.api.removeService(e.service.ID)
      yield* Effect.logInfo(`session ${session} had ${e.view.record.status === "created" ? "not started" : `ended (${e.view.record.status})`}: starting a new one under the same name`)
    }

    const tty = req.detach || process.stdin.isTTY === true
    // Workers reach the parent service by name on the instance's network: no parent run to join.
    const shape = yield* decideShape(req, { session, limits, apiKey, project, user, choice, profiled, tty }, settings, {
      chromadbPort: settings.chromadbPort,
      parent: null
    })

    // Without a TTY, claudy's input follows the session in frames, so that its end reaches the session.
    const handoff = { session, env, command: req.command, apiKey: apiKey.key, user, framedStdin: !tty }

    // Hand the session to a running task's container through its node's engine: detached, hand it over and leave;
    // attached, attach first (no output of the session is lost), hand it over on that attach, connect the terminal.
    let attached: Fiber.RuntimeFiber<AttachResult, AttachFailed> | undefined
    const deliver = (placed: { readonly nodeId: string; readonly containerId: string }) =>
      Effect.gen(function* () {
        const engine = yield* cluster.nodeEngine(placed.nodeId)
        if (req.detach) return yield* handOff(engine.address, placed.containerId, handoff)
        const ready = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(
          attachSession(engine.address, session, placed.containerId, { tty, onAttached: ready, logs: true, prepare: deliverOn(handoff), keepStdinOpen: true, ...(tty ? {} : { frameStdin: stdinFrame }) })
        )
        attached = fiber
        yield* Effect.raceFirst(Deferred.await(ready), Effect.asVoid(Fiber.join(fiber)))
      })

    // 3. A free warm worker of this very shape (the pool keeps `--via-parent PROJECT` warm): claimed by a label
    // update at the version read, one winner (claim.ts); none, or every one lost to other spawns: a cold one.
    const poolable = req.viaParent && workerServiceFingerprint(shape) === workerServiceFingerprint(swarmPoolShape(settings, project.dir, project.owner, profiled))
    const warm = poolable
      ? yield* claimWarm(cluster.api, owner, workerServiceFingerprint(shape), session, (w) => deliver({ nodeId: w.node, containerId: w.containerId }), req.node)
      : Option.none()
    if (Option.isNone(warm)) {
      const placement = yield* placeWorker(shape, root, candidates, req.node)
      const spec = workerService(shape, { role: "worker", name, session, version: VERSION }, placement)
      // The service, as a resource until the session is handed over: removed on any failure or interrupt before.
      yield* Effect.gen(function* () {
        const { ID } = yield* Effect.acquireRelease(
          cluster.api.createService(spec).pipe(
            Effect.catchTag("DockerApiError", (e): Effect.Effect<never, DockerApiError | SessionNameTaken> =>
              e.status === 409 ? Effect.fail(new SessionNameTaken({ name: session, container: name, project: project.dir, state: "just created by another claudy" })) : Effect.fail(e)
            )
          ),
          ({ ID }, exit) => (Exit.isSuccess(exit) ? Effect.void : Effect.ignore(cluster.api.removeService(ID)))
        )
        yield* deliver(yield* awaitRunning(cluster.api, ID, session, START_WAIT_MS))
      }).pipe(Effect.scoped)
    }

    yield* logSpawned(settings.home, { session, warm: Option.isSome(warm), project: project.dir, poolable, startedAt })
    // a claimed warm worker keeps its service name; the session is found by its label either way
    const service = Option.match(warm, { onNone: () => name, onSome: (w) => w.name })
    if (attached === undefined) return { _tag: "detached", session, container: service } satisfies SpawnResult
    const result = yield* Fiber.join(attached)
    return result._tag === "exited"
      ? ({ _tag: "exited", session, code: result.code } satisfies SpawnResult)
      : ({ _tag: "detached-by-user", session } satisfies SpawnResult)
  })

/**
 * Where a new worker of `shape` may run (a cold session, a warm worker): the candidates that have the project (and
 * the claudy binary workers mount, and the image), checked on their engines; the image by id where the manager has
 * it, so every node runs those very bits and none waits on a registry. No candidate has it: a clear error.
 */
export const placeWorker = (shape: WorkerShape, root: string, candidates: ReadonlyArray<SwarmNode>, node: string | undefined) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const imageId = Option.getOrUndefined(Option.map(yield* cluster.manager.inspectImage(shape.image), (i) => i.Id))
    const binds = [shape.projectDir, ...(shape.claudyBinary === null ? [] : [shape.claudyBinary])]
    const probed = yield* probeNodes(candidates, cluster.engineOf, shape.owner, imageId ?? shape.image, binds)
    const avoid = probed.filter((p) => !p.result.ok)
    for (const p of avoid) yield* Effect.logInfo(`node ${p.node.Description.Hostname} is not used: ${p.result.ok ? "" : p.result.why}`)
    if (avoid.length === probed.length) {
      return yield* new UsageError({
        detail: `no node can run ${shape.projectDir}: ${avoid.map((p) => `${p.node.Description.Hostname}: ${p.result.ok ? "" : p.result.why}`).join("; ")}`,
        fix: `put the project under ${root} on a node (the same path on each), or name one that has it with --node`
      })
    }
    return { projectsRoot: root, node, avoid: avoid.map((p) => p.node.ID), imageId }
  })

/** A --via-parent session needs the instance's parent service (`claudy daemon start` makes it). */
const checkParentService = (instance: string, owner: ReturnType<typeof ownerOf>) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const name = parentName(instance)
    const svc = yield* cluster.api.inspectService(name)
    if (Option.isNone(svc) || ownershipOf(svc.value.Spec.Labels, owner) !== "ours") {
      return yield* new ParentNotRunning({ container: name, state: Option.isNone(svc) ? "absent" : "not claudy's" })
    }
  })

