/**
 * Spawning a worker: every check first (limits, name, env, project, parent, image), so bad input never leaves a
 * container behind; then create, record, and either return once it runs (detached) or attach the terminal.
 */
import { Context, Deferred, Effect, ExecutionStrategy, Exit, Fiber, Layer, Option, Schedule, Scope } from "effect"
import { homedir } from "node:os"
import { Settings } from "../config/Settings.ts"
import {
  AttachFailed,
  type DockerApiError,
  ParentNotRunning,
  SessionNameTaken,
  LimitsNotEnforced
} from "../domain/errors.ts"
import { LABEL, ownershipOf } from "../domain/labels.ts"
import { parentName } from "../domain/names.ts"
import { inspectParent } from "../daemon/Parent.ts"
import { publishedPort } from "../daemon/parentSpec.ts"
import type { EngineAddress } from "../docker/address.ts"
import { Engine } from "../docker/Engine.ts"
import { describeEngine, engineKind } from "../docker/engineKind.ts"
import { requireLocalEngine } from "../docker/localEngine.ts"
import { ownedVolume } from "../docker/ownedVolume.ts"
import { Images } from "../images/Images.ts"
import { logSpawned } from "../pool/files.ts"
import { Pool } from "../pool/Pool.ts"
import { signalSlot, writeHandoff } from "../pool/slot.ts"
import { removeRecord } from "../sessions/SessionStore.ts"
import { containersKey, forgetAnswer, reusedAnswer } from "../server/WarmState.ts"
import { Sessions } from "../sessions/Sessions.ts"
import { ensureHome, ownerOf } from "../state/home.ts"
import { checkRequest, decideShape, planSession, type SpawnRequest } from "./request.ts"
import { type AttachResult, attachSession } from "./attach.ts"
import { acquireWorker } from "./createWorker.ts"
import { reserveName } from "./nameReservation.ts"
import { imageForProfile } from "./profileImage.ts"
import { resolveProject } from "./projectPath.ts"
import { memoryMounts, workerContainerName, workerFingerprint, workerUser } from "./workerSpec.ts"

export type { SpawnRequest } from "./request.ts"
export { validateEnvPairs } from "./request.ts"

export type SpawnResult =
  | { readonly _tag: "detached"; readonly session: string; readonly container: string }
  /** the project's session runs already: attach to it (or, detached, report it) instead of starting a second one */
  | {
      readonly _tag: "running"
      readonly session: string
      readonly containerId: string
      readonly tty: boolean
      readonly project: string
      /** the engine that runs it, when not claudy's own (a swarm node's) */
      readonly address?: EngineAddress
    }
  | { readonly _tag: "exited"; readonly session: string; readonly code: number }
  | { readonly _tag: "detached-by-user"; readonly session: string }

const make = Effect.gen(function* () {
  const engine = yield* Engine
  const images = yield* Images
  const pool = yield* Pool
  const sessions = yield* Sessions
  const { settings } = yield* Settings
  const owner = ownerOf(settings)
  const home = settings.home

  // Limits must hold: an engine that would accept and ignore them (rootless on cgroup v1) is refused, never used
  // silently unbounded. /info is asked in parallel with the other checks; /version only to name the engine.
  const checkLimitsEnforced = Effect.gen(function* () {
    // the engine's kernel features: the control server asks once while it follows this engine's events
    const info = yield* reusedAnswer(engine.address.display, "info", engine.info)
    const kind = engineKind({ Version: "?", ApiVersion: "?" }, info)
    if (kind.unenforced.length === 0) return
    const named = engineKind(yield* engine.version, info)
    return yield* new LimitsNotEnforced({ engine: describeEngine(named), limits: named.unenforced })
  })

  const checkParent = Effect.gen(function* () {
    const name = parentName(settings.instance)
    const parent = yield* inspectParent(engine, name)
    if (Option.isNone(parent) || ownershipOf(parent.value.Config.Labels, owner) !== "ours") {
      return yield* new ParentNotRunning({ container: name, state: Option.isNone(parent) ? "absent" : "not claudy's" })
    }
    if (!parent.value.State.Running) return yield* new ParentNotRunning({ container: name, state: parent.value.State.Status })
    return {
      port: publishedPort(parent.value) ?? settings.chromadbPort,
      id: parent.value.Id,
      startedAt: parent.value.State.StartedAt ?? ""
    }
  })

  /**
   * The named volumes a worker mounts must be ours or absent (the engine then creates them with our labels). A via-parent
   * spawn needs no look: the parent's start checked them. Without the parent, another HAL9000_HOME of the same instance
   * may own volumes of these names: mounting them would hand this worker that home's shared memory.
   */
  const checkVolumesOurs = (names: ReadonlyArray<string>) =>
    Effect.forEach(names, (name) => ownedVolume(engine, owner, name), { concurrency: "unbounded", discard: true })

  /**
   * Whether `image`'s entrypoint runs a session written into its slot before the start without waiting for the FIFO
   * (LABEL.handoff, set by the worker recipe and inherited by images built from it). Unknown or absent: no, the
   * worker is signalled as before.
   */
  const startsHandedOff = (image: string) =>
    Effect.map(
      reusedAnswer(engine.address.display, `image:${image}`, engine.inspectImage(image).pipe(Effect.orElseSucceed(() => Option.none()))),
      (i) => Option.exists(i, (found) => found.Config?.Labels?.[LABEL.handoff] === "before-start")
    )

  /** The session's container if one exists (sessions.container fails with ForeignObject for one not ours). */
  const existingSession = (session: string) => sessions.container(session)

  const nameTaken = (session: string, c: { readonly Config: { readonly Labels?: Record<string, string> | null }; readonly State: { readonly Status: string } }) =>
    new SessionNameTaken({
      name: session,
      container: workerContainerName(settings.instance, session),
      project: c.Config.Labels?.[LABEL.project] ?? "",
      state: c.State.Status
    })

  const spawn = (req: SpawnRequest) =>
    Effect.gen(function* () {
      const startedAt = performance.now()
      // 1. Everything that needs no engine.
      yield* requireLocalEngine(engine.address, "a spawn")
      const { limits, env, apiKey } = yield* checkRequest(req, settings)
      const project = yield* resolveProject(req.path, req.cwd, { userHome: homedir(), halHome: home })
      const { session, byProject, choice } = yield* planSession(req, project.dir, home)
      const user = workerUser(project.owner)

      // 2. The name is ours until the worker runs (two concurrent spawns of one name: one wins here). Not for the
      // whole attached session: the next `claudy PATH` must find the session and attach to it.
      // A new random name (--new) is neither reserved nor looked up (step 3): no other spawn asks for it, and should
      // another session have it, the create answers 409 (reported as a taken name). Its lock file cost a served spawn
      // ≈ 9 % of the server's CPU in a burst (its create and unlink wait for the disk's journal; profiled).
      const randomName = req.fresh === true && req.name === undefined
      const naming = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
      // The project's own session being spawned by another claudy right now: wait for it, then attach or report it.
      if (!randomName) {
        yield* reserveName(home, session).pipe(
          Scope.extend(naming),
          byProject ? Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 600, while: (e) => e._tag === "SessionNameTaken" }) : (e) => e
        )
      }

      // 3. What the engine must confirm before anything is created (in parallel: this is a spawn's critical path).
      const [parentRun, existing, profiled] = yield* Effect.all(
        [
          req.viaParent
            ? Effect.map(checkParent, Option.some)
            : Effect.as(checkVolumesOurs(memoryMounts({ owner, claudyBinary: null }).map((m) => m.Source)), Option.none()),
          randomName ? Effect.succeed(Option.none()) : existingSession(session),
          choice === undefined ? Effect.succeed(undefined) : imageForProfile(engine, settings.workerImage, choice),
          ensureHome(settings),
          limits.enabled ? checkLimitsEnforced : Effect.void
        ],
        { concurrency: "unbounded" }
      )
      if (Option.isSome(existing)) {
        const c = existing.value
        if (!byProject) return yield* nameTaken(session, c)
        if (c.State.Running) {
          yield* Scope.close(naming, Exit.void)
          return { _tag: "running", session, containerId: c.Id, tty: c.Config.Tty ?? false, project: project.dir } satisfies SpawnResult
        }
        // The project's session has ended: a new one takes its name (the old container, ours, is replaced).
        yield* sessions.remove(session, false)
        yield* Effect.logInfo(`session ${session} had ${c.State.Status === "created" ? "not started" : `exited (${c.State.ExitCode ?? "?"})`}: starting a new one under the same name`)
      }

      const interactive = !req.detach
      const tty = req.detach || process.stdin.isTTY === true
      const shape = yield* decideShape(req, { session, limits, apiKey, project, user, choice, profiled, tty }, settings, {
        chromadbPort: Option.match(parentRun, { onNone: () => settings.chromadbPort, onSome: (p) => p.port }),
        parent: Option.match(parentRun, { onNone: () => null, onSome: (p) => ({ id: p.id, startedAt: p.startedAt }) })
      })
      const image = shape.image
      const handoff = { session, env, command: req.command, apiKey: apiKey.key, user }
      // Only a spawn of the shape the pool keeps warm, joined to the parent's current run, can take a warm worker.
      const poolable = Option.exists(parentRun, (p) => workerFingerprint(shape) === workerFingerprint(pool.defaultShape(project.dir, p, project.owner, profiled)))

      // An interactive session must be attached before it is woken, or its first output would be lost.
      let attached: Fiber.RuntimeFiber<AttachResult, AttachFailed> | undefined
      const attachFirst = (c: { readonly id: string }, running?: Deferred.Deferred<void>) =>
        interactive
          ? Effect.gen(function* () {
              const ready = yield* Deferred.make<void>()
              const fiber = yield* Effect.fork(attachSession(engine.address, session, c.id, { tty, onAttached: ready, running }))
              attached = fiber
              // An attach that fails before it is established (the container gone) fails the spawn, not hangs it.
              yield* Effect.raceFirst(Deferred.await(ready), Effect.asVoid(Fiber.join(fiber)))
            })
          : Effect.void

      // 4. A warm worker of the same shape if one is free, else a cold one.
      const warm = poolable ? yield* pool.claim(shape, handoff, attachFirst) : Option.none()
      let containerId: string
      if (Option.isSome(warm)) {
        containerId = warm.value.id
      } else {
        // The image is pulled only when the engine says it is missing (as the settings allow, or refused with the
        // image error), and the create is tried once more; beside the create its hand-off label is looked at.
        const create = acquireWorker(engine, home, shape, session)
        // Until the session is handed over, any failure or an interrupt (Ctrl-C, SIGTERM) at any step removes what
        // this spawn created: the worker is a resource of this scope, kept only when the scope succeeds.
        const running = yield* Deferred.make<void>()
        const cold = yield* Effect.gen(function* () {
          // asked beside the create (in the control server, reused until an image event)
          const handedOff = yield* Effect.fork(startsHandedOff(image))
          const w = yield* create.pipe(
            Effect.catchIf(
              (e) => e._tag === "DockerApiError" && e.status === 404,
              () => Effect.zipRight(images.ensure(image, "worker", settings.skipImagePull ? "never" : "if-missing"), create)
            ),
            Effect.catchTag("DockerApiError", (e): Effect.Effect<never, DockerApiError | SessionNameTaken> =>
              // 409: a concurrent spawn took the name between our check and create.
              e.status === 409
                ? Effect.fail(nameTaken(session, { Config: {}, State: { Status: "just created by another claudy" } }))
                : Effect.fail(e)
            )
          )
          yield* writeHandoff(home, w.slot, handoff)
          yield* attachFirst(w, running)
          // A detached session is recorded while the engine starts it (the record's sync to disk is then off the
          // spawn's path); the record goes again with the worker if the spawn fails. An attached one when it ends.
          const recorded =
            attached === undefined
              ? Effect.acquireRelease(sessions.recordStarted(w.createdAs, session), (_, exit) =>
                  Exit.isSuccess(exit) ? Effect.void : Effect.ignore(removeRecord(home, session))
                )
              : Effect.void
          yield* Effect.all([engine.startContainer(w.id), recorded], { concurrency: 2, discard: true })
          yield* Deferred.succeed(running, undefined)
          // An image whose entrypoint runs the session written before the start needs no signal (and never reads it).
          if (!(yield* Fiber.join(handedOff)) && !(yield* signalSlot(home, w.slot, 10_000))) {
            return yield* new AttachFailed({ session, detail: "the worker did not reach its entrypoint within 10 s (see: docker logs)" })
          }
          return w
        }).pipe(
          Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Deferred.interrupt(running))),
          Effect.scoped
        )
        containerId = cold.id
      }
      // 5. The session runs: the server's kept container list (status, sessions list) must show it to the very next
      // request; the spawn is logged; the name is free again. A warm worker is renamed and recorded (adopt).
      yield* forgetAnswer(engine.address.display, containersKey(owner))
      yield* logSpawned(home, { session, warm: Option.isSome(warm), project: project.dir, poolable, startedAt })
      yield* Scope.close(naming, Exit.void)
      if (Option.isSome(warm)) yield* pool.adopt(containerId, session, warm.value.name)
      if (req.detach || attached === undefined) {
        return { _tag: "detached", session, container: workerContainerName(settings.instance, session) } satisfies SpawnResult
      }
      const result = yield* Fiber.join(attached)
      // an attached session is recorded when it ends
      const ended = yield* engine.inspectContainer(containerId)
      if (Option.isSome(ended)) yield* sessions.syncOne(ended.value, undefined, session)
      return result._tag === "exited"
        ? ({ _tag: "exited", session, code: result.code } satisfies SpawnResult)
        : ({ _tag: "detached-by-user", session } satisfies SpawnResult)
    }).pipe(Effect.scoped)

  return { spawn }
})

export class Spawner extends Context.Tag("claudy/Spawner")<Spawner, Effect.Effect.Success<typeof make>>() {
  /** The service from its dependencies (cli/services.ts builds them all this way, in one layer). */
  static make = make
  static layer = Layer.effect(Spawner, make)
}
