// Bun entry (compiled into dist/claudy). Keep it a plain runMain call: --bytecode builds reject top-level await.
import { BunContext, BunRuntime } from "@effect/platform-bun"
import { Effect, Layer } from "effect"
import { program, teardown } from "./cli/program.ts"
import { loggerLayer } from "./observe/logger.ts"

BunRuntime.runMain(program(process.argv).pipe(Effect.provide(Layer.merge(BunContext.layer, loggerLayer))), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown
})
