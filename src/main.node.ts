// Node and Deno entry: the same program on @effect/platform-node.
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { program, teardown } from "./cli/program.ts"
import { loggerLayer } from "./observe/logger.ts"

NodeRuntime.runMain(program(process.argv).pipe(Effect.provide(Layer.merge(NodeContext.layer, loggerLayer))), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown
})
