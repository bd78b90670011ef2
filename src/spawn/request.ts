/**
 * What a spawn request says before any engine is asked, for the local and the swarm spawner alike: its limits,
 * environment, API key and name are checked, and the session's name and profile decided from the project.
 */
import { Effect, Either } from "effect"
import { keyFile, resolveApiKey } from "../auth/apiKey.ts"
import type { Settings } from "../config/variables.ts"
import { ConfigInvalid, UsageError } from "../domain/errors.ts"
import { chooseProfile, type ProfileChoice } from "../images/profiles.ts"
import type { Limits } from "./limits.ts"
import { workerMemory } from "../mcp/binary.ts"
import { ownerOf } from "../state/home.ts"
import type { WorkerShape } from "./workerSpec.ts"
import type { ProfileImage } from "./profileImage.ts"
import { type LimitFlags, resolveLimits } from "./limits.ts"
import { extraSessionName, projectSessionName, SESSION_NAME_FORM, validateSessionName } from "./sessionName.ts"
import { randomBytes } from "node:crypto"

export interface SpawnRequest {
  readonly path: string
  readonly cwd: string
  readonly name?: string | undefined
  /** `--new`: another session beside the project's own, instead of reattaching to it */
  readonly fresh?: boolean
  readonly viaParent: boolean
  readonly detach: boolean
  readonly image?: string | undefined
  /** `--profile`: a language profile's image (default: detected from the project's files) */
  readonly profile?: string | undefined
  readonly env: ReadonlyArray<string>
  readonly command: ReadonlyArray<string>
  readonly limits: LimitFlags
  /** `claudy login`: no API key for this session (Claude Code must ask for a login, not use the key) */
  readonly withoutApiKey?: boolean
  /** `--node` (swarm only): run on this node */
  readonly node?: string | undefined
}

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

export const fromEither = <A, E>(e: Either.Either<A, E>) => Either.match(e, { onLeft: Effect.fail, onRight: Effect.succeed })

/** Limits, environment, API key and --name: everything that needs neither the project nor an engine. */
export const checkRequest = (req: SpawnRequest, settings: Settings) =>
  Effect.gen(function* () {
    const limits = yield* fromEither(resolveLimits(req.limits, settings))
    const env = yield* fromEither(validateEnvPairs(req.env))
    const apiKey = req.withoutApiKey === true ? { source: "none" as const, key: "" } : yield* resolveApiKey(settings)
    if (req.name !== undefined) {
      yield* fromEither(
        Either.mapLeft(
          validateSessionName(req.name),
          (why) => new ConfigInvalid({ variable: "--name", value: req.name!, expected: `${SESSION_NAME_FORM}; ${why}`, source: "flag" })
        )
      )
    }
    return { limits, env, apiKey }
  })

/**
 * The session's name (without --name, the project's own, found again on the next run, or with --new one beside it)
 * and the profile: --profile, else detected from the project's files; none with a user's --image.
 */
export const planSession = (req: SpawnRequest, projectDir: string, home: string) =>
  Effect.gen(function* () {
    const byProject = req.name === undefined && req.fresh !== true
    const session =
      req.name ?? (req.fresh === true ? extraSessionName(projectDir, randomBytes(6).toString("base64url")) : projectSessionName(projectDir))
    if (req.image !== undefined && req.profile !== undefined) {
      return yield* new UsageError({ detail: "--image and --profile both choose the worker image", fix: "give one of them" })
    }
    const choice =
      req.image === undefined
        ? yield* fromEither(
            Either.mapLeft(
              chooseProfile(req.profile, projectDir, home),
              (why) => new UsageError({ detail: why, fix: "claudy profiles list shows the profiles and their images" })
            )
          )
        : undefined
    return { session, byProject, choice }
  })

/**
 * The worker's shape: its image (--image, the profile's, or WORKER_IMAGE), after saying what the user should know,
 * and how it reaches ChromaDB (`join`: the parent run and port on one host, the parent service's port on a swarm).
 */
export const decideShape = (
  req: SpawnRequest,
  d: {
    readonly session: string
    readonly limits: Limits
    readonly apiKey: { readonly source: string }
    readonly project: { readonly dir: string; readonly owner: { readonly uid: number } }
    readonly choice: ProfileChoice | undefined
    readonly profiled: ProfileImage | undefined
    readonly user: { readonly uid: number; readonly gid: number }
    readonly tty: boolean
  },
  settings: Settings,
  join: Pick<WorkerShape, "chromadbPort" | "parent">
) =>
  Effect.gen(function* () {
    if (!d.limits.enabled) yield* Effect.logWarning(`session ${d.session}: --no-limits, the worker runs without memory, cpu or pids limits`)
    if (d.apiKey.source === "none" && req.withoutApiKey !== true) {
      yield* Effect.logWarning(
        `ANTHROPIC_API_KEY is not set and there is no ${keyFile(settings.home)}: Claude Code uses the login kept in its home, or asks you to log in (claudy auth status; claudy login)`
      )
    }
    if (d.project.owner.uid === 0) {
      yield* Effect.logWarning(
        `${d.project.dir} is owned by root: the worker runs as uid ${d.user.uid} and can change only what that uid may; chown the project to its real owner`
      )
    }
    const image = req.image ?? d.profiled?.image ?? settings.workerImage
    if (d.profiled?.missing !== undefined) {
      yield* Effect.logWarning(
        `profile ${d.profiled.missing.profile} (detected from ${d.choice?.file}) has no image ${d.profiled.missing.image}: using base; build it with: claudy images build --profile ${d.profiled.missing.profile}`
      )
    } else if (d.profiled !== undefined && d.profiled.profile !== "base") {
      yield* Effect.logInfo(`profile ${d.profiled.profile} (${d.choice?.how === "flag" ? "--profile" : `detected from ${d.choice?.file}`}): image ${image}`)
    }
    return {
      owner: ownerOf(settings),
      image,
      profile: req.image === undefined ? (d.profiled?.profile ?? "base") : null,
      projectDir: d.project.dir,
      limits: d.limits,
      viaParent: req.viaParent,
      ...join,
      user: d.user,
      tty: d.tty,
      ...workerMemory(settings)
    } satisfies WorkerShape
  })
