// Bun entry (compiled into dist/claudy). Keep it a plain runMain call: --bytecode builds reject top-level await.
// Only the platform services @effect/cli needs (file system, path, terminal) are loaded: the full BunContext also
// brings a command executor and worker manager that no command uses, at a cost on every start (measured: ~4 ms).
// Imports stay static: dynamic imports in a compiled binary measured twice as slow to start (config: 51 -> 92 ms).
import * as BunFileSystem from "@effect/platform-bun/BunFileSystem"
import * as BunPath from "@effect/platform-bun/BunPath"
import * as BunRuntime from "@effect/platform-bun/BunRuntime"
import * as BunTerminal from "@effect/platform-bun/BunTerminal"
import * as BunHttpServer from "@effect/platform-bun/BunHttpServer"
import { Effect, Layer } from "effect"
import { program, teardown } from "./cli/program.ts"
import { HttpServe } from "./observe/HttpServe.ts"
import { loggerLayer } from "./observe/logger.ts"

const platform = Layer.mergeAll(
  BunFileSystem.layer,
  BunPath.layer,
  BunTerminal.layer,
  Layer.succeed(HttpServe, (a) => BunHttpServer.layerServer({ hostname: a.host, port: a.port }))
)

BunRuntime.runMain(program(process.argv).pipe(Effect.provide(Layer.merge(platform, loggerLayer))), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown
})
