// Bun entry (compiled into dist/claudy with --splitting: the program is its own chunk, evaluated only when imported).
import { answeredVersion, loadProgram } from "./versionFastPath.ts"

if (!answeredVersion(process.argv)) loadProgram(() => import("./run.bun.ts"))
