/** The command a session runs, taken from argv after `--` before @effect/cli parses the rest. */
import { Context } from "effect"

export class SessionCommand extends Context.Tag("claudy/SessionCommand")<SessionCommand, ReadonlyArray<string>>() {}

/** Split argv at the first `--` (pure). */
export const splitArgv = (argv: ReadonlyArray<string>) => {
  const i = argv.indexOf("--")
  return i < 0 ? { cli: argv, command: [] as ReadonlyArray<string> } : { cli: argv.slice(0, i), command: argv.slice(i + 1) }
}
