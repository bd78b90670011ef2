// Bun entry (compiled into dist/claudy with --splitting: the program is its own chunk, evaluated only when imported).
// `--version` is answered here, served commands by the control server when one runs (src/server/client.ts), and
// everything else, or anything the server cannot take, by the program in this process.
import { answeredByServer } from "./server/client.ts"
import { answeredVersion, loadProgram } from "./versionFastPath.ts"

if (!answeredVersion(process.argv)) {
  void answeredByServer(process.argv).then((answered) => {
    if (!answered) return loadProgram(() => import("./run.bun.ts"))
  })
}
