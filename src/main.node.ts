// Node and Deno entry: the same program on @effect/platform-node.
import { NodeContext, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { program, teardown } from "./cli/program.ts"
import { HttpServe } from "./observe/HttpServe.ts"
import { loggerLayer } from "./observe/logger.ts"

const httpServe = Layer.succeed(HttpServe, (a) => NodeHttpServer.layerServer(createServer, { host: a.host, port: a.port }))

NodeRuntime.runMain(program(process.argv).pipe(Effect.provide(Layer.mergeAll(NodeContext.layer, loggerLayer, httpServe))), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown
})
