// The Bun program, loaded by src/main.ts for every command but `--version`.
// Only the platform services @effect/cli needs (file system, path, terminal) are provided: the full BunContext also
// brings a command executor and worker manager that no command uses, at a cost on every start (measured: ~4 ms).
import * as BunFileSystem from "@effect/platform-bun/BunFileSystem"
import * as BunPath from "@effect/platform-bun/BunPath"
import * as BunRuntime from "@effect/platform-bun/BunRuntime"
import * as BunTerminal from "@effect/platform-bun/BunTerminal"
import { runOnPlatform } from "./cli/runOnPlatform.ts"

runOnPlatform(BunRuntime.runMain, {
  fileSystem: BunFileSystem.layer,
  path: BunPath.layer,
  terminal: BunTerminal.make(),
  serve: (a) => import("@effect/platform-bun/BunHttpServer").then((m) => m.layerServer({ hostname: a.host, port: a.port }))
})
