/**
 * Colour only for a person at a terminal. @effect/cli renders help and its own parse errors with ANSI colours
 * whatever the output is (its helpDoc `toAnsiText` is `Doc.render(…, { style: "pretty" })`, with no switch), and
 * claudy's own output has none. So the codes are taken out of what goes to stdout or stderr when that stream is not a
 * terminal (a pipe, a file), NO_COLOR is set (no-color.org), or TERM is dumb.
 */
import { Console, Effect } from "effect"
import { isatty } from "node:tty"
import { colourWanted, stripColour } from "./colour.ts"

/**
 * Run `self` with a Console that strips colour from each stream that should not have it: this process's, or, when
 * the control server runs a client's command, as the client's environment asks (its terminals are the client's to
 * look at: server/client.ts takes colour out of an answer for a stream that is not a terminal).
 */
export const withColourPolicy = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  env: Readonly<Record<string, string | undefined>> = process.env,
  // isatty(fd), not process.stdout.isTTY: the first use of process.stdout builds Node's stream machinery (≈ 7 ms of
  // a start in the compiled binary, see observe/logger.ts).
  terminals: { readonly out: boolean; readonly err: boolean } = { out: isatty(1), err: isatty(2) }
): Effect.Effect<A, E, R> => {
  const out = colourWanted(env, terminals.out)
  const err = colourWanted(env, terminals.err)
  if (out && err) return self
  return Console.consoleWith((c) =>
    Console.withConsole(self, {
      ...c,
      log: (...args: ReadonlyArray<unknown>) => (out ? c.log(...args) : c.log(...stripColour(args))),
      error: (...args: ReadonlyArray<unknown>) => (err ? c.error(...args) : c.error(...stripColour(args)))
    })
  )
}
