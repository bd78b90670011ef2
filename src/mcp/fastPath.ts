/**
 * `claudy mcp chroma` and `claudy mcp register` run before the command line parser is loaded: the first starts with
 * every Claude Code session and must answer initialize fast, the second runs at every worker start. Any other form
 * (`--help`, a flag) goes through the parser, which runs the same functions (cli/mcpCommand.ts).
 */
export const mcpFastPath = (argv: ReadonlyArray<string>): (() => Promise<unknown>) | undefined => {
  if (argv.length !== 4 || argv[2] !== "mcp") return undefined
  if (argv[3] === "chroma") return () => import("./server.ts").then((m) => m.serveChroma())
  if (argv[3] === "register") return () => import("./register.ts").then((m) => m.registerFromEnvironment())
  return undefined
}
