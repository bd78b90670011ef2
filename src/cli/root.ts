/** The command tree. Exported so tests can run it in-process with argv arrays. */
import { Command } from "@effect/cli"
import { Console } from "effect"
import { VERSION_LINE } from "../version.ts"
import { configCommand } from "./configCommand.ts"
import { daemonCommand } from "./daemonCommand.ts"
import { imagesCommand } from "./imagesCommand.ts"

const root = Command.make("claudy", {}, () =>
  Console.log("claudy runs Claude Code workers in containers next to a shared ChromaDB.\nStart with: claudy daemon start   (all commands: claudy --help)")
).pipe(
  Command.withDescription("Run isolated Claude Code workers in containers next to a shared ChromaDB memory service"),
  Command.withSubcommands([daemonCommand, configCommand, imagesCommand])
)

export const cli = Command.run(root, { name: "claudy", version: VERSION_LINE })
