/**
 * The shape of argv without @effect/cli (pure, no imports): which tree parses it (src/cli/root.ts) and whether the
 * thin client may send it to the control server (src/server/protocol.ts), both decided before any command loads.
 */

/** Every subcommand by the name users type, in the order of `claudy --help` (root.ts loads each lazily). */
export const SUBCOMMAND_NAMES = [
  "daemon",
  "spawn",
  "sessions",
  "pool",
  "doctor",
  "debug-bundle",
  "backup",
  "restore",
  "reset",
  "config",
  "login",
  "auth",
  "images",
  "profiles",
  "mcp",
  "serve"
] as const

export type SubcommandName = (typeof SUBCOMMAND_NAMES)[number]

export const ROOT_FLAGS: ReadonlySet<string> = new Set(["-h", "--help", "--version", "--completions", "--wizard", "--log-level"])

export const isSubcommand = (name: string | undefined): name is SubcommandName =>
  name !== undefined && (SUBCOMMAND_NAMES as ReadonlyArray<string>).includes(name)

/** Which tree parses `argv`: the spawn form unless the first argument is a subcommand or a root flag. */
export const isSpawnForm = (argv: ReadonlyArray<string>) => {
  const first = argv[2]
  return first !== undefined && !ROOT_FLAGS.has(first) && !isSubcommand(first)
}
