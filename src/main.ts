// Bun entry (compiled into dist/claudy with --splitting: the program is its own chunk, evaluated only when imported).
import { mcpFastPath } from "./mcp/fastPath.ts"
import { answeredVersion, loadProgram } from "./versionFastPath.ts"

// `claudy mcp chroma|register` skip the parser too (mcp/fastPath.ts says why).
if (!answeredVersion(process.argv)) loadProgram(mcpFastPath(process.argv) ?? (() => import("./run.bun.ts")))
