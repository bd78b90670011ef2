/**
 * The shape the warm pool keeps on a swarm (pure): a default `claudy --via-parent PROJECT` spawn's, as on one host.
 * The parent is a service reached by name on the instance's network, so its run is no part of the shape.
 */
import type { Settings } from "../config/variables.ts"
import { poolShape } from "../pool/Pool.ts"
import type { WorkerShape } from "../spawn/workerSpec.ts"

export const swarmPoolShape = (
  settings: Settings,
  projectDir: string,
  projectOwner: { readonly uid: number; readonly gid: number },
  on?: { readonly image: string; readonly profile: string }
): WorkerShape => ({
  ...poolShape(settings, projectDir, { port: settings.chromadbPort, id: "", startedAt: "" }, projectOwner, on),
  parent: null
})
