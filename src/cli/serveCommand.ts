/** `claudy serve`: the control server in the foreground, for hosts that run no `daemon run` supervisor. */
import { Command } from "@effect/cli"
import { Effect } from "effect"
import { UsageError } from "../domain/errors.ts"
import { normalJitPolicy } from "../observe/jitPolicy.ts"
import { setOption } from "./common.ts"
import { withSet } from "./services.ts"

export const serveCommand = Command.make("serve", { set: setOption }, ({ set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const { serveControl } = yield* Effect.promise(() => import("../server/server.ts"))
      yield* normalJitPolicy
      yield* serveControl // returns only when another server already answers on this HAL9000_HOME's socket
      return yield* new UsageError({
        detail: "another claudy server already answers on this HAL9000_HOME's control socket (run/control.sock)",
        fix: "use that one (claudy daemon run serves too), or stop it first"
      })
    })
  )
).pipe(
  Command.withDescription(
    "Serve status, list and detached-spawn commands to the claudy binary on a socket in HAL9000_HOME (what `daemon run` also does); exits 0 on SIGTERM"
  )
)
