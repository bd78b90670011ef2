// Node and Deno entry: the same program on @effect/platform-node.
import { answeredVersion, loadProgram } from "./versionFastPath.ts"

if (!answeredVersion(process.argv)) loadProgram(() => import("./run.node.ts"))
