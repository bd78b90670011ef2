/**
 * The command trees. Exported so tests can run them in-process with argv arrays.
 * Two roots, chosen by the first argument: `claudy <subcommand> …` and the guide's spawn form
 * `claudy [--via-parent] [PATH] …`. @effect/cli cannot give one root both positional arguments and subcommands
 * without ignoring unknown flags of the subcommands, so the choice is made before parsing.
 */
import { Command } from "@effect/cli"
import { Console } from "effect"
import { VERSION_LINE } from "../version.ts"
import { configCommand } from "./configCommand.ts"
import { daemonCommand } from "./daemonCommand.ts"
import { imagesCommand } from "./imagesCommand.ts"
import { opsCommands } from "./opsCommand.ts"
import { poolCommand } from "./poolCommand.ts"
import { sessionsCommand } from "./sessionsCommand.ts"
import { spawnConfig, spawnHandler } from "./spawnCommand.ts"

const SPAWN_DESCRIPTION = "Spawn a worker on a project: claudy spawn --via-parent [--detach] [PATH] [-- CMD ARGS…]"

const spawn = Command.make("spawn", spawnConfig, spawnHandler).pipe(Command.withDescription(SPAWN_DESCRIPTION))

/** Every subcommand by the name users type; the order is the order of `claudy --help`. */
const SUBCOMMANDS = {
  daemon: daemonCommand,
  spawn,
  sessions: sessionsCommand,
  pool: poolCommand,
  ...opsCommands,
  config: configCommand,
  images: imagesCommand
} as const

type Sub = (typeof SUBCOMMANDS)[keyof typeof SUBCOMMANDS]

const rootWith = (subs: ReadonlyArray<Sub>) =>
  Command.make("claudy", {}, () =>
    Console.log(
      "claudy runs Claude Code workers in containers next to a shared ChromaDB.\n" +
        "Start the parent with: claudy daemon start; spawn with: claudy --via-parent /path/to/project (all: claudy --help)"
    )
  ).pipe(
    Command.withDescription(
      "Run isolated Claude Code workers in containers next to a shared ChromaDB. `claudy [spawn options] [PATH]` is `claudy spawn …`"
    ),
    Command.withSubcommands(subs as [Sub, ...Array<Sub>])
  )

// `claudy --via-parent /path`: the spawn command under the program's own name.
const spawnRoot = Command.make("claudy", spawnConfig, spawnHandler).pipe(Command.withDescription(SPAWN_DESCRIPTION))

const ROOT_FLAGS = new Set(["-h", "--help", "--version", "--completions", "--wizard", "--log-level"])
const isSubcommand = (name: string | undefined): name is keyof typeof SUBCOMMANDS =>
  name !== undefined && Object.hasOwn(SUBCOMMANDS, name)

/** Which tree parses `argv` (pure): the spawn form unless the first argument is a subcommand or a root flag. */
export const isSpawnForm = (argv: ReadonlyArray<string>) => {
  const first = argv[2]
  return first !== undefined && !ROOT_FLAGS.has(first) && !isSubcommand(first)
}

/**
 * @effect/cli sees `--help` only right after the command path (`claudy daemon start --help`); after other flags it
 * reads it as an argument. Users put it anywhere, so move it behind the command path (at most group + command).
 */
export const normalizeHelp = (argv: ReadonlyArray<string>, spawnForm: boolean): Array<string> => {
  const rest = argv.slice(2)
  if (!rest.includes("--help") && !rest.includes("-h")) return [...argv]
  const firstFlag = rest.findIndex((a) => a.startsWith("-"))
  const words = firstFlag < 0 ? rest : rest.slice(0, firstFlag)
  return [...argv.slice(0, 2), ...(spawnForm ? [] : words.slice(0, 2)), "--help"]
}

/**
 * Parse with the smallest tree that can: the spawn form, one subcommand (building the whole tree costs ~10 ms of
 * every start, measured), or everything for `claudy`, `claudy --help` and the other root flags.
 */
export const cli = (argv: ReadonlyArray<string>) => {
  const spawnForm = isSpawnForm(argv)
  const args = normalizeHelp(argv, spawnForm)
  const first = argv[2]
  const options = { name: "claudy", version: VERSION_LINE }
  if (spawnForm) return Command.run(spawnRoot, options)(args)
  return Command.run(rootWith(isSubcommand(first) ? [SUBCOMMANDS[first]] : Object.values(SUBCOMMANDS)), options)(args)
}
