import { Config, Context, Effect, Either, Layer } from "effect"
import type { ConfigConflict, ConfigInvalid } from "../domain/errors.ts"
import { type ResolvedSettings, resolveSettings, variableNames } from "./variables.ts"

/** The validated settings of this run, with where each value came from. Read once, before any Docker call. */
export class Settings extends Context.Tag("claudy/Settings")<Settings, ResolvedSettings>() {
  /** Read every known variable through Effect's ConfigProvider (the environment, or a map in tests). */
  static load = (flags: Readonly<Record<string, string>> = {}): Effect.Effect<ResolvedSettings, ConfigInvalid | ConfigConflict> =>
    Effect.gen(function* () {
      const env: Record<string, string | undefined> = {}
      for (const name of variableNames()) {
        const value = yield* Config.option(Config.string(name)).pipe(Effect.orElseSucceed(() => undefined))
        env[name] = value && value._tag === "Some" ? value.value : undefined
      }
      return yield* Either.match(resolveSettings({ env, flags }), {
        onLeft: (e) => Effect.fail(e),
        onRight: (s) => Effect.succeed(s)
      })
    })

  static layer = (flags: Readonly<Record<string, string>> = {}) => Layer.effect(Settings, Settings.load(flags))
}
