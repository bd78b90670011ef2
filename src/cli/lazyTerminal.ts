/**
 * The Terminal @effect/cli requires, built on first use. Only its prompts (`--wizard`) use it, and building the
 * platform's terminal opens stdin and stdout as Node streams: ≈ 5 ms of every start for a service no command uses
 * (measured on the compiled binary). Once built it lives as long as the layer's scope, like the eager one.
 */
import * as Terminal from "@effect/platform/Terminal"
import { Effect, Layer, Scope } from "effect"

export const lazyTerminal = <E>(make: Effect.Effect<Terminal.Terminal, E, Scope.Scope>) =>
  Layer.scoped(
    Terminal.Terminal,
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const real = yield* Effect.cached(Effect.orDie(Scope.extend(make, scope)))
      const use = <A, E2, R>(f: (t: Terminal.Terminal) => Effect.Effect<A, E2, R>) => Effect.flatMap(real, f)
      return Terminal.Terminal.of({
        columns: use((t) => t.columns),
        rows: use((t) => t.rows),
        isTTY: use((t) => t.isTTY),
        readInput: use((t) => t.readInput),
        readLine: use((t) => t.readLine),
        display: (text) => use((t) => t.display(text))
      })
    })
  )
