// The Bun program, loaded by src/main.ts for every command but `--version`.
// Only the platform services @effect/cli needs (file system, path, terminal) are provided: the full BunContext also
// brings a command executor and worker manager that no command uses, at a cost on every start (measured: ~4 ms).
import * as BunFileSystem from "@effect/platform-bun/BunFileSystem"
import * as BunPath from "@effect/platform-bun/BunPath"
import * as BunRuntime from "@effect/platform-bun/BunRuntime"
import * as BunTerminal from "@effect/platform-bun/BunTerminal"
import { Effect, Layer } from "effect"
import { lazyTerminal } from "./cli/lazyTerminal.ts"
import { program, teardown } from "./cli/program.ts"
import { HttpServe } from "./observe/HttpServe.ts"
import { withLogger } from "./observe/logger.ts"

const platform = Layer.mergeAll(
  BunFileSystem.layer,
  BunPath.layer,
  lazyTerminal(BunTerminal.make()),
  // Only `daemon run` serves HTTP: the server's modules are loaded when it asks.
  Layer.succeed(HttpServe, (a) =>
    Layer.unwrapEffect(Effect.map(Effect.promise(() => import("@effect/platform-bun/BunHttpServer")), (m) => m.layerServer({ hostname: a.host, port: a.port })))
  )
)

BunRuntime.runMain(withLogger(program(process.argv).pipe(Effect.provide(platform))), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown
})
