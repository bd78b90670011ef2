/**
 * Colour only for a person at a terminal. @effect/cli renders help and its own parse errors with ANSI colours
 * whatever the output is (its helpDoc `toAnsiText` is `Doc.render(…, { style: "pretty" })`, with no switch), and
 * claudy's own output has none. So the codes are taken out of what goes to stdout or stderr when that stream is not a
 * terminal (a pipe, a file), NO_COLOR is set (no-color.org), or TERM is dumb.
 */
import { Console, Effect } from "effect"
import { isatty } from "node:tty"

const SGR = /\u001b\[[0-9;]*m/g

/** Whether a stream may carry colour (pure). */
export const colourWanted = (env: Readonly<Record<string, string | undefined>>, isTerminal: boolean) =>
  isTerminal && (env.NO_COLOR ?? "") === "" && env.TERM !== "dumb"

export const stripColour = (args: ReadonlyArray<unknown>) => args.map((a) => (typeof a === "string" ? a.replace(SGR, "") : a))

/** Run `self` with a Console that strips colour from each stream that should not have it. */
export const withColourPolicy = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  // isatty(fd), not process.stdout.isTTY: the first use of process.stdout builds Node's stream machinery (≈ 7 ms of
  // a start in the compiled binary, see observe/logger.ts).
  const out = colourWanted(process.env, isatty(1))
  const err = colourWanted(process.env, isatty(2))
  if (out && err) return self
  return Console.consoleWith((c) =>
    Console.withConsole(self, {
      ...c,
      log: (...args: ReadonlyArray<unknown>) => (out ? c.log(...args) : c.log(...stripColour(args))),
      error: (...args: ReadonlyArray<unknown>) => (err ? c.error(...args) : c.error(...stripColour(args)))
    })
  )
}
