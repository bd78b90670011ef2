import { Context, Effect, Either, Layer } from "effect"
import { TLS_VARIABLES } from "../docker/address.ts"
import type { ConfigConflict, ConfigInvalid, StateError } from "../domain/errors.ts"
import { invocation } from "./invocation.ts"
import { dependsOnFile } from "../server/WarmState.ts"
import { keptFile, readKept } from "./kept.ts"
import { type ResolvedSettings, resolveSettings, VARIABLES, variableNames } from "./variables.ts"

/** The validated settings of this run, with where each value came from. Read once, before any Docker call. */
export class Settings extends Context.Tag("claudy/Settings")<Settings, ResolvedSettings>() {
  /**
   * Read every known variable from the environment and what `daemon start` kept in HAL9000_HOME (config/kept.ts), and
   * resolve them (pure, unit-tested: defaults, forms, sources).
   * Not through Effect's Config: reading these 24 variables through it cost 3-6 ms of every command's start, against
   * 0.2 ms for reading them directly (measured on the compiled binary), and its parsing would duplicate
   * resolveSettings, which must also say where each value came from. The environment is the invocation's: this
   * process's, or the client's when the control server runs a client's command (config/invocation.ts).
   */
  static load = (
    flags: Readonly<Record<string, string>> = {},
    environment?: Readonly<Record<string, string | undefined>>
  ): Effect.Effect<ResolvedSettings, ConfigInvalid | ConfigConflict | StateError> =>
    Effect.flatMap(environment === undefined ? Effect.map(invocation, (i) => i.env) : Effect.succeed(environment), (source): Effect.Effect<ResolvedSettings, ConfigInvalid | ConfigConflict | StateError> => {
      // Docker's TLS variables are read only to be refused for tcp:// (they are not claudy's settings)
      const env = Object.fromEntries([...variableNames(), ...TLS_VARIABLES].map((name) => [name, source[name]]))
      // The kept settings live in HAL9000_HOME; an invalid HAL9000_HOME is reported by resolveSettings itself.
      const home = VARIABLES.home.parse(flags[VARIABLES.home.name] ?? env[VARIABLES.home.name] ?? VARIABLES.home.default())
      // a served status is reused only while the kept settings are as read here (server/replies.ts)
      const watched = Either.isRight(home) ? dependsOnFile(keptFile(home.right)) : Effect.void
      return Effect.zipRight(
        watched,
        Effect.suspend((): Effect.Effect<ResolvedSettings, ConfigInvalid | ConfigConflict | StateError> => {
          const kept = Either.isRight(home) ? readKept(home.right) : Either.right({})
          if (Either.isLeft(kept)) return Effect.fail(kept.left)
          return Either.match(resolveSettings({ env, flags, kept: kept.right }), { onLeft: Effect.fail, onRight: Effect.succeed })
        })
      )
    })

  static layer = (flags: Readonly<Record<string, string>> = {}) => Layer.effect(Settings, Settings.load(flags))
}
