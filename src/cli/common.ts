/** Options shared by several commands, and the helpers that print results. */
import { HelpDoc, Options, Span } from "@effect/cli"
import { Console, Effect } from "effect"
import { UsageError } from "../domain/errors.ts"
import { variableNames } from "../config/variables.ts"

export const jsonOption = Options.boolean("json").pipe(Options.withDescription("Print the result as JSON"))

export const setOption = Options.text("set").pipe(
  Options.withPseudoName("NAME=VALUE"),
  Options.withDescription("Override a setting for this run: --set CHROMADB_PORT=8080 (repeatable; source shows as 'flag')"),
  Options.repeated
)

/** `--set NAME=VALUE` pairs to the flags record Settings takes; unknown names and bad shapes are usage errors. */
export const parseSetFlags = (pairs: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const known = new Set(variableNames())
    const out: Record<string, string> = {}
    for (const pair of pairs) {
      const eq = pair.indexOf("=")
      const name = eq > 0 ? pair.slice(0, eq) : ""
      if (!known.has(name)) {
        return yield* new UsageError({
          detail: `--set '${pair}' does not name a known setting`,
          fix: `use --set NAME=VALUE with NAME one of: ${[...known].join(", ")}`
        })
      }
      out[name] = pair.slice(eq + 1)
    }
    return out
  })

/** `-f` of sessions logs and daemon logs, as in docker logs. */
export const followOption = Options.boolean("follow").pipe(
  Options.withAlias("f"),
  Options.withDescription("Keep printing new output until the container stops or Ctrl-C")
)

/** Seconds as people read an age or uptime: 42s, 3m7s, 2h5m. */
export const duration = (s: number) =>
  s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`

export const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

/** Aligned two-or-more column text. */
export const table = (rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = rows.reduce<Array<number>>(
    (w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)),
    []
  )
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n")
}

/** A description followed by examples, for the help of the commands users start from (also in claudy(1)). */
export const withExamples = (
  description: string,
  examples: readonly [readonly [command: string, what: string], ...Array<readonly [string, string]>]
) =>
  HelpDoc.blocks([
    HelpDoc.p(description),
    HelpDoc.p(Span.strong("Examples:")),
    HelpDoc.descriptionList(
      examples.map(([command, what]): [Span.Span, HelpDoc.HelpDoc] => [Span.code(command), HelpDoc.p(what)]) as [
        [Span.Span, HelpDoc.HelpDoc],
        ...Array<[Span.Span, HelpDoc.HelpDoc]>
      ]
    )
  ])
