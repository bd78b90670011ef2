/**
 * The backend seam for commands: HAL9000_BACKEND=local runs every command as it always has; with `swarm`, a command
 * that has a swarm form runs it (loaded only then), and one that has none is refused before it does anything, naming
 * what to do instead. Tiny on purpose: command modules import it on the hot path.
 */
import { Effect } from "effect"
import { Settings } from "../config/Settings.ts"
import { UsageError } from "../domain/errors.ts"

/** Run `swarm` with HAL9000_BACKEND=swarm, else `local`. */
export const byBackend = <A, E, R, A2, E2, R2>(
  local: Effect.Effect<A, E, R>,
  swarm: () => Effect.Effect<A2, E2, R2>
): Effect.Effect<A | A2, E | E2, R | R2 | Settings> =>
  Effect.flatMap(Settings, ({ settings }): Effect.Effect<A | A2, E | E2, R | R2> => (settings.backend === "swarm" ? swarm() : local))

/** Refuse `command` with HAL9000_BACKEND=swarm: `why` it has no swarm form, and the `fix`. */
export const localOnly = (command: string, why: string, fix: string) =>
  Effect.flatMap(Settings, ({ settings }) =>
    settings.backend === "swarm"
      ? Effect.fail(new UsageError({ detail: `claudy ${command} is not available with HAL9000_BACKEND=swarm: ${why}`, fix }))
      : Effect.void
  )
