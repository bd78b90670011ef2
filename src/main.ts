// Bun entry (compiled into dist/claudy with --splitting: the program is its own chunk, evaluated only when imported).
// `--version` is answered here; `claudy mcp chroma|register` skip the parser too (mcp/fastPath.ts says why); served
// commands go to the control server when one runs (src/server/client.ts); everything else, or anything the server
// cannot take, runs in this process.
import { mcpFastPath } from "./mcp/fastPath.ts"
import { answeredByServer } from "./server/client.ts"
import { answeredVersion, loadProgram } from "./versionFastPath.ts"

if (!answeredVersion(process.argv)) {
  const mcp = mcpFastPath(process.argv)
  if (mcp !== undefined) loadProgram(mcp)
  else {
    void answeredByServer(process.argv).then((answered) => {
      if (!answered) return loadProgram(() => import("./run.bun.ts"))
    })
  }
}
