/**
 * What a worker runs once claimed, as a POSIX sh fragment the entrypoint sources (pure): exported environment and
 * `set --` with the command (nothing: the image's default command, claude). Every value is single-quoted.
 */
export const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

export const renderSessionScript = (session: string, env: ReadonlyArray<string>, command: ReadonlyArray<string>) =>
  [
    "# written by claudy: the session this worker serves",
    `export HAL9000_SESSION=${shQuote(session)}`,
    ...env.map((pair) => {
      const i = pair.indexOf("=")
      return `export ${pair.slice(0, i)}=${shQuote(pair.slice(i + 1))}`
    }),
    ...(command.length > 0 ? [`set -- ${command.map(shQuote).join(" ")}`] : []),
    ""
  ].join("\n")
