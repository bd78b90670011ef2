/**
 * The command trees. Exported so tests can run them in-process with argv arrays.
 * Two roots, chosen by the first argument: `claudy <subcommand> …` and the guide's spawn form
 * `claudy [--via-parent] [PATH] …`. @effect/cli cannot give one root both positional arguments and subcommands
 * without ignoring unknown flags of the subcommands, so the choice is made before parsing.
 */
import { Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { VERSION_LINE } from "../version.ts"
import { isSpawnForm, isSubcommand, type SubcommandName } from "./argvShape.ts"
import { AUTHENTICATION, SESSIONS } from "./helpSections.ts"
import { keptParses } from "./keptParses.ts"
import type { SpawnArgs } from "./spawnCommand.ts"


const loadSpawn = () => import("./spawnCommand.ts")
const loadOps = () => import("./opsCommand.ts")

/**
 * Every subcommand by the name users type, loaded only when it is the one that runs: each command module brings its
 * services' module graph, and evaluating all of them cost every start ~10 ms (measured). The order is the order of
 * `claudy --help`.
 */
const SUBCOMMANDS = {
  daemon: () => import("./daemonCommand.ts").then((m) => m.daemonCommand),
  spawn: () =>
    loadSpawn().then((m) =>
      Command.make("spawn", m.spawnConfig, m.spawnHandler).pipe(Command.withDescription(m.spawnDescription))
    ),
  sessions: () => import("./sessionsCommand.ts").then((m) => m.sessionsCommand),
  pool: () => import("./poolCommand.ts").then((m) => m.poolCommand),
  doctor: () => loadOps().then((m) => m.opsCommands.doctor),
  "debug-bundle": () => loadOps().then((m) => m.opsCommands["debug-bundle"]),
  backup: () => loadOps().then((m) => m.opsCommands.backup),
  restore: () => loadOps().then((m) => m.opsCommands.restore),
  reset: () => loadOps().then((m) => m.opsCommands.reset),
  config: () => import("./configCommand.ts").then((m) => m.configCommand),
  login: () => import("./authCommand.ts").then((m) => m.loginCommand),
  auth: () => import("./authCommand.ts").then((m) => m.authCommand),
  images: () => import("./imagesCommand.ts").then((m) => m.imagesCommand),
  profiles: () => import("./profilesCommand.ts").then((m) => m.profilesCommand),
  mcp: () => import("./mcpCommand.ts").then((m) => m.mcpCommand),
  serve: () => import("./serveCommand.ts").then((m) => m.serveCommand)
} as const
// argvShape.ts names the subcommands for the code that runs before this module: the same names both ways.
void (SUBCOMMANDS satisfies Record<SubcommandName, unknown>)
void (null as unknown as keyof typeof SUBCOMMANDS satisfies SubcommandName)

type Sub = Awaited<ReturnType<(typeof SUBCOMMANDS)[SubcommandName]>>

const rootWith = (subs: ReadonlyArray<Sub>) =>
  Command.make("claudy", {}, () =>
    Console.log(
      "claudy runs Claude Code workers in containers next to a shared ChromaDB.\n" +
        "Start the parent with: claudy daemon start; spawn with: claudy --via-parent /path/to/project (all: claudy --help)"
    )
  ).pipe(
    Command.withDescription(
      `Run isolated Claude Code workers in containers next to a shared ChromaDB. \`claudy [spawn options] [PATH]\` is \`claudy spawn …\`\n\n${SESSIONS}\n\n${AUTHENTICATION}`
    ),
    Command.withSubcommands(subs as [Sub, ...Array<Sub>])
  )

/** The whole tree, every subcommand loaded: for claudy(1) and docs/CLI.md (scripts/docs), never for a command. */
export const fullTree = () => Promise.all(Object.values(SUBCOMMANDS).map((load) => load())).then(rootWith)

/** The spawn form's parses, kept by argv (keptParses.ts says why): its root has no parent command to provide. */
const spawnParses = keptParses<SpawnArgs>()

// `claudy --via-parent /path`: the spawn command under the program's own name.
const spawnRoot = () =>
  loadSpawn().then((m) =>
    Command.make("claudy", m.spawnConfig, spawnParses.keeping(m.spawnHandler)).pipe(Command.withDescription(m.spawnDescription))
  )

export { isSpawnForm }

/**
 * @effect/cli sees `--help` only right after the command path (`claudy daemon start --help`); after other flags it
 * reads it as an argument. Users put it anywhere, so move it behind the command path (at most group + command).
 * It also names the full path in the usage line (`$ claudy daemon logs …`, not `$ logs …`) only when every level
 * was asked for help: a parent that sees `--help` prefixes its name to its child's usage, one that does not passes the
 * child's help up unchanged. So `--help` follows each word: `claudy --help daemon --help logs --help`.
 */
export const normalizeHelp = (argv: ReadonlyArray<string>, spawnForm: boolean): Array<string> => {
  const rest = argv.slice(2)
  if (!rest.includes("--help") && !rest.includes("-h")) return [...argv]
  const firstFlag = rest.findIndex((a) => a.startsWith("-"))
  const words = spawnForm ? [] : (firstFlag < 0 ? rest : rest.slice(0, firstFlag)).slice(0, 2)
  return [...argv.slice(0, 2), "--help", ...words.flatMap((w) => [w, "--help"])]
}

/**
 * Parse with the smallest tree that can: the spawn form, one subcommand (building and loading the whole tree costs
 * every start, measured), or everything for `claudy`, `claudy --help` and the other root flags.
 */
export const cli = (argv: ReadonlyArray<string>) => {
  const spawnForm = isSpawnForm(argv)
  const args = normalizeHelp(argv, spawnForm)
  const first = argv[2]
  const key = spawnForm ? "(spawn form)" : isSubcommand(first) ? first : "(all)"
  const known = spawnForm ? spawnParses.known(args) : undefined
  if (known !== undefined) return Effect.flatMap(Effect.promise(loadSpawn), (m) => m.spawnHandler(known))
  return Effect.flatMap(Effect.promise(() => runnerFor(key)), (run) => (spawnForm ? spawnParses.parse(args, run(args)) : run(args)))
}

const options = { name: "claudy", version: VERSION_LINE }
const spawnRunner = () => spawnRoot().then((root) => Command.run(root, options))
const treeRunner = (loads: ReadonlyArray<() => Promise<Sub>>) =>
  Promise.all(loads.map((load) => load())).then((subs) => Command.run(rootWith(subs), options))
type Runner = Awaited<ReturnType<typeof spawnRunner>> | Awaited<ReturnType<typeof treeRunner>>
const runners = new Map<string, Promise<Runner>>()

/**
 * The parser of one tree, built once per process: the control server (src/server/) parses every request, and building
 * the tree again each time cost it ≈ 1 ms a request (measured).
 */
const runnerFor = (key: string): Promise<Runner> => {
  let runner = runners.get(key)
  if (runner === undefined) {
    runner = key === "(spawn form)" ? spawnRunner() : treeRunner(isSubcommand(key) ? [SUBCOMMANDS[key]] : Object.values(SUBCOMMANDS))
    runners.set(key, runner)
  }
  return runner
}
