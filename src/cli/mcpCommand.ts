/**
 * `claudy mcp chroma` (the agents' ChromaDB tools as a stdio MCP server) and `claudy mcp register` (what a worker's
 * entrypoint runs). Their plain forms are answered before the parser loads (mcp/fastPath.ts); this tree gives them
 * their help and runs the same functions.
 */
import { Command } from "@effect/cli"
import { Effect } from "effect"

const chroma = Command.make("chroma", {}, () => Effect.promise(() => import("../mcp/server.ts").then((m) => m.serveChroma()))).pipe(
  Command.withDescription(
    "Serve ChromaDB to an MCP client over stdio, with chroma-mcp's tool names (in workers: CHROMADB_URL; on the host: " +
      "127.0.0.1:CHROMADB_PORT). Host use: claude mcp add chroma -- claudy mcp chroma. Embedding: HAL9000_EMBEDDING (docs/MEMORY.md)"
  )
)

const register = Command.make("register", {}, () =>
  Effect.promise(() => import("../mcp/register.ts").then((m) => m.registerFromEnvironment()))
).pipe(
  Command.withDescription(
    "Merge the workers' MCP servers (chroma, memory-bank, sequential-thinking) into $CLAUDE_CONFIG_DIR/.claude.json, keeping everything else (run by the worker entrypoint)"
  )
)

export const mcpCommand = Command.make("mcp").pipe(
  Command.withDescription("The shared memory as MCP servers for Claude Code (docs/MEMORY.md)"),
  Command.withSubcommands([chroma, register])
)
