// The Node/Deno program on @effect/platform-node, loaded by src/main.node.ts for every command but `--version`.
// The same platform services as run.bun.ts.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { lazyTerminal } from "./cli/lazyTerminal.ts"
import { program, teardown } from "./cli/program.ts"
import { HttpServe } from "./observe/HttpServe.ts"
import { withLogger } from "./observe/logger.ts"

const platform = Layer.mergeAll(
  NodeFileSystem.layer,
  NodePath.layer,
  lazyTerminal(NodeTerminal.make()),
  // Only `daemon run` serves HTTP: the server's modules are loaded when it asks.
  Layer.succeed(HttpServe, (a) =>
    Layer.unwrapEffect(Effect.map(Effect.promise(() => import("@effect/platform-node/NodeHttpServer")), (m) => m.layerServer(createServer, { host: a.host, port: a.port })))
  )
)

NodeRuntime.runMain(withLogger(program(process.argv).pipe(Effect.provide(platform))), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown
})
