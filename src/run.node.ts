// The Node/Deno program on @effect/platform-node, loaded by src/main.node.ts for every command but `--version`.
// The same platform services as run.bun.ts.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { createServer } from "node:http"
import { runOnPlatform } from "./cli/runOnPlatform.ts"

runOnPlatform(NodeRuntime.runMain, {
  fileSystem: NodeFileSystem.layer,
  path: NodePath.layer,
  terminal: NodeTerminal.make(),
  serve: (a) => import("@effect/platform-node/NodeHttpServer").then((m) => m.layerServer(createServer, { host: a.host, port: a.port }))
})
