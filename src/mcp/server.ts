/**
 * `claudy mcp chroma`: the MCP server over stdio, on the official TypeScript SDK (docs/ARCHITECTURE.md says why).
 * Claude Code starts it with every session, so initialize is answered before the tools are loaded: Effect, Schema
 * and the ChromaDB client are imported on the first tools/list or tools/call.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { VERSION } from "../version.ts"

const INSTRUCTIONS =
  "ChromaDB shared by every claudy worker and the host: collections of documents, searched by similarity " +
  "(chroma_query_documents). Store what other agents should find later; ids must be unique within a collection."

type Loaded = { tools: typeof import("./tools.ts"); context: ReturnType<typeof import("./context.ts")["cachedToolContext"]> }
let loaded: Promise<Loaded> | undefined
// The server stays for the whole session and embeds every document and query: once past start-up (initialize is
// answered) it gets the normal JIT policy back, like every long-running command (observe/jitPolicy.ts).
const load = () =>
  (loaded ??= Promise.all([import("./tools.ts"), import("./context.ts"), import("../observe/jitPolicy.ts")]).then(([tools, c, jit]) => {
    jit.restoreNormalJit()
    return { tools, context: c.cachedToolContext() }
  }))

/** Serve until the client closes stdin. */
export const serveChroma = (): Promise<void> =>
  new Promise((resolve, reject) => {
    const server = new Server({ name: "chroma", version: VERSION }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS })
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: (await load()).tools.toolList() as never }))
    server.setRequestHandler(CallToolRequestSchema, async (req) => {
      const { tools, context } = await load()
      return tools.callTool(req.params.name, req.params.arguments, context)
    })
    const transport = new StdioServerTransport()
    server.onclose = () => resolve()
    // The transport does not notice that stdin ended: without this the process would outlive its client.
    process.stdin.once("end", () => void server.close())
    server.connect(transport).catch(reject)
  })
