/** The command tree. Exported so tests can run it in-process with argv arrays. */
import { Command } from "@effect/cli"
import { VERSION_LINE } from "../version.ts"
import { configCommand } from "./configCommand.ts"
import { daemonCommand } from "./daemonCommand.ts"
import { imagesCommand } from "./imagesCommand.ts"
import { sessionsCommand } from "./sessionsCommand.ts"
import { spawnConfig, spawnHandler } from "./spawnCommand.ts"

const spawn = Command.make("spawn", spawnConfig, spawnHandler).pipe(
  Command.withDescription("Spawn a worker on a project: claudy spawn --via-parent [--detach] [PATH] [-- CMD ARGS…]")
)

// The root takes the spawn options too, so the guide's `claudy --via-parent /path` works as it always did.
const root = Command.make("claudy", spawnConfig, spawnHandler).pipe(
  Command.withDescription(
    "Run isolated Claude Code workers in containers next to a shared ChromaDB. Without a subcommand: spawn a worker (see: claudy spawn --help)"
  ),
  Command.withSubcommands([daemonCommand, spawn, sessionsCommand, configCommand, imagesCommand])
)

export const cli = Command.run(root, { name: "claudy", version: VERSION_LINE })
