/**
 * Spawning a worker: every check first (limits, name, env, project, parent, image), so bad input never leaves a
 * container behind; then create, record, and either return once it runs (detached) or attach the terminal.
 */
import { Context, Effect, Either, Layer, Option } from "effect"
import { randomBytes } from "node:crypto"
import { homedir } from "node:os"
import { Settings } from "../config/Settings.ts"
import {
  ConfigInvalid,
  type DockerApiError,
  ForeignObject,
  ParentNotRunning,
  SessionNameTaken,
  type StateError,
  UsageError
} from "../domain/errors.ts"
import { describeOwner, LABEL, ownershipOf } from "../domain/labels.ts"
import { parentName } from "../domain/names.ts"
import { Engine } from "../docker/Engine.ts"
import type { ContainerInspect } from "../docker/types.ts"
import { Images } from "../images/Images.ts"
import { recordFromContainer } from "../sessions/record.ts"
import { removeRecord, writeRecord } from "../sessions/SessionStore.ts"
import { ensureHome, ownerOf } from "../state/home.ts"
import { VERSION } from "../version.ts"
import { attachSession } from "./attach.ts"
import { type LimitFlags, resolveLimits } from "./limits.ts"
import { resolveProject } from "./projectPath.ts"
import { writeApiKeyFile } from "./secret.ts"
import { defaultSessionName, SESSION_NAME_FORM, validateSessionName } from "./sessionName.ts"
import { workerContainerName, workerSpec, workerUser } from "./workerSpec.ts"

export interface SpawnRequest {
  readonly path: string
  readonly cwd: string
  readonly name?: string | undefined
  readonly viaParent: boolean
  readonly detach: boolean
  readonly image?: string | undefined
  readonly env: ReadonlyArray<string>
  readonly command: ReadonlyArray<string>
  readonly limits: LimitFlags
}

export type SpawnResult =
  | { readonly _tag: "detached"; readonly session: string; readonly container: string }
  | { readonly _tag: "exited"; readonly session: string; readonly code: number }
  | { readonly _tag: "detached-by-user"; readonly session: string }

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/

/** `-e KEY=VALUE` pairs (pure); the API key is refused here because it would show in `docker inspect`. */
export const validateEnvPairs = (pairs: ReadonlyArray<string>): Either.Either<ReadonlyArray<string>, UsageError> => {
  for (const p of pairs) {
    const key = p.includes("=") ? p.slice(0, p.indexOf("=")) : ""
    if (!ENV_KEY.test(key)) {
      return Either.left(new UsageError({ detail: `-e '${p}' is not KEY=VALUE`, fix: "pass environment as -e KEY=VALUE, e.g. -e LOG_LEVEL=debug" }))
    }
    if (key === "ANTHROPIC_API_KEY") {
      return Either.left(
        new UsageError({
          detail: "-e ANTHROPIC_API_KEY=… would put the key where docker inspect shows it",
          fix: "export ANTHROPIC_API_KEY in claudy's own environment: it is passed to the worker as a file"
        })
      )
    }
  }
  return Either.right(pairs)
}

const fromEither = <A, E>(e: Either.Either<A, E>) => Either.match(e, { onLeft: Effect.fail, onRight: Effect.succeed })

const make = Effect.gen(function* () {
  const engine = yield* Engine
  const images = yield* Images
  const { settings } = yield* Settings
  const owner = ownerOf(settings)

  const checkParent = Effect.gen(function* () {
    const name = parentName(settings.instance)
    const parent = yield* engine.inspectContainer(name)
    if (Option.isNone(parent) || ownershipOf(parent.value.Config.Labels, owner) !== "ours") {
      return yield* new ParentNotRunning({ container: name, state: Option.isNone(parent) ? "absent" : "not claudy's" })
    }
    if (!parent.value.State.Running) return yield* new ParentNotRunning({ container: name, state: parent.value.State.Status })
    const published = Object.values(parent.value.HostConfig.PortBindings ?? {})[0]?.[0]?.HostPort
    return Number(published ?? settings.chromadbPort)
  })

  const checkNameFree = (session: string) =>
    Effect.gen(function* () {
      const cname = workerContainerName(settings.instance, session)
      const existing = yield* engine.inspectContainer(cname)
      if (Option.isNone(existing)) return
      const labels = existing.value.Config.Labels
      const ownership = ownershipOf(labels, owner)
      if (ownership !== "ours") return yield* new ForeignObject({ kind: "container", name: cname, owner: describeOwner(labels, ownership) })
      return yield* new SessionNameTaken({
        name: session,
        container: cname,
        project: labels?.[LABEL.project] ?? "",
        state: existing.value.State.Status
      })
    })

  const spawn = (req: SpawnRequest) =>
    Effect.gen(function* () {
      // 1. Everything that needs no engine.
      const limits = yield* fromEither(resolveLimits(req.limits, settings))
      const env = yield* fromEither(validateEnvPairs(req.env))
      if (req.name !== undefined) {
        yield* fromEither(
          Either.mapLeft(
            validateSessionName(req.name),
            (why) => new ConfigInvalid({ variable: "--name", value: req.name!, expected: `${SESSION_NAME_FORM}; ${why}`, source: "flag" })
          )
        )
      }
      const project = yield* resolveProject(req.path, req.cwd, { userHome: homedir(), halHome: settings.home })
      const projectDir = project.dir
      const user = workerUser(project.owner)
      const session = req.name ?? defaultSessionName(projectDir, randomBytes(6).toString("base64url"))
      const image = req.image ?? settings.workerImage

      // 2. What the engine must confirm before anything is created.
      yield* engine.ping
      const chromadbPort = req.viaParent ? yield* checkParent : settings.chromadbPort
      yield* checkNameFree(session)
      yield* images.ensure(image, "worker", settings.skipImagePull ? "never" : "if-missing")
      yield* ensureHome(settings)

      if (!limits.enabled) yield* Effect.logWarning(`session ${session}: --no-limits, the worker runs without memory, cpu or pids limits`)
      const key = settings.anthropicApiKey
      if (key === "") yield* Effect.logWarning("ANTHROPIC_API_KEY is not set: Claude Code in the worker will ask you to log in")
      if (project.owner.uid === 0) {
        yield* Effect.logWarning(
          `${projectDir} is owned by root: the worker runs as uid ${user.uid} and can change only what that uid may; chown the project to its real owner`
        )
      }
      const secretFile = key === "" ? undefined : yield* writeApiKeyFile(settings.home, session, key, user)

      const interactive = !req.detach
      const tty = req.detach ? true : process.stdin.isTTY === true
      const spec = workerSpec({
        owner,
        session,
        image,
        projectDir,
        limits,
        viaParent: req.viaParent,
        chromadbPort,
        env,
        command: req.command,
        user,
        tty,
        interactive,
        secretFile,
        version: VERSION
      })

      // 3. Create; from here on a failure removes what this spawn made.
      const { Id } = yield* engine.createContainer(spec.name, spec.createBody).pipe(
        Effect.catchTag("DockerApiError", (e): Effect.Effect<never, DockerApiError | SessionNameTaken | StateError> =>
          // 409: a concurrent spawn took the name between our check and create; its files are not ours to remove.
          e.status === 409
            ? Effect.fail(new SessionNameTaken({ name: session, container: spec.name, project: "", state: "just created by another claudy" }))
            : Effect.zipRight(removeRecord(settings.home, session).pipe(Effect.ignore), Effect.fail(e))
        )
      )
      const record = (c: ContainerInspect) =>
        writeRecord(settings.home, recordFromContainer(c, c.State.Running ? "running" : c.State.Status === "created" ? "created" : "exited", new Date().toISOString()))
      const inspectNow = Effect.flatMap(engine.inspectContainer(Id), Option.match({ onNone: () => Effect.void, onSome: record }))
      yield* inspectNow.pipe(
        Effect.tapError(() => engine.removeContainer(Id, { force: true }).pipe(Effect.ignore))
      )

      if (req.detach) {
        yield* engine.startContainer(Id).pipe(
          Effect.tapError(() =>
            Effect.all([engine.removeContainer(Id, { force: true }), removeRecord(settings.home, session)]).pipe(Effect.ignore)
          )
        )
        yield* inspectNow
        return { _tag: "detached", session, container: spec.name } satisfies SpawnResult
      }
      const result = yield* attachSession(engine.address, session, Id, { tty, start: true })
      yield* inspectNow
      return result._tag === "exited"
        ? ({ _tag: "exited", session, code: result.code } satisfies SpawnResult)
        : ({ _tag: "detached-by-user", session } satisfies SpawnResult)
    })

  return { spawn }
})

export class Spawner extends Context.Tag("claudy/Spawner")<Spawner, Effect.Effect.Success<typeof make>>() {
  static layer = Layer.effect(Spawner, make)
}
