// Node and Deno entry: the same program on @effect/platform-node.
import { mcpFastPath } from "./mcp/fastPath.ts"
import { answeredVersion, loadProgram } from "./versionFastPath.ts"

// `claudy mcp chroma|register` skip the parser too (mcp/fastPath.ts says why).
if (!answeredVersion(process.argv)) loadProgram(mcpFastPath(process.argv) ?? (() => import("./run.node.ts")))
