// Start-up floor, measured by make bench: the smallest @effect/cli app on the platform services claudy loads.
import { Command } from "@effect/cli"
import * as BunFileSystem from "@effect/platform-bun/BunFileSystem"
import * as BunPath from "@effect/platform-bun/BunPath"
import * as BunRuntime from "@effect/platform-bun/BunRuntime"
import * as BunTerminal from "@effect/platform-bun/BunTerminal"
import { Console, Effect, Layer } from "effect"

const cmd = Command.make("probe", {}, () => Console.log("ok"))
const run = Command.run(cmd, { name: "probe", version: "1" })
BunRuntime.runMain(
  Effect.suspend(() => run(process.argv)).pipe(Effect.provide(Layer.mergeAll(BunFileSystem.layer, BunPath.layer, BunTerminal.layer)))
)
