/**
 * The light probe `/health/ready` and the watchdog share: one inspect of the parent and one ChromaDB heartbeat, in
 * parallel and under one deadline. Never one call per worker (that is `daemon status`): a probe is asked every
 * second or so, and a stuck engine must make it answer "not ready" within the deadline, not hang it.
 */
import { Duration, Effect, Option } from "effect"
import { Settings } from "../config/Settings.ts"
import { ownershipOf } from "../domain/labels.ts"
import { parentName } from "../domain/names.ts"
import { Engine } from "../docker/Engine.ts"
import { ownerOf } from "../state/home.ts"
import { chromaUrl, heartbeat } from "./chroma.ts"
import { publishedPort } from "./parentSpec.ts"

/** The probe's whole budget: a ready check answers within it whatever the engine does. */
export const PROBE_DEADLINE = Duration.seconds(2)

export interface ParentProbe {
  /** `unknown`: the engine did not answer (down, or stuck past the deadline); `error` says which */
  readonly state: "absent" | "running" | "restarting" | "stopped" | "not-ours" | "unknown"
  readonly healthy: boolean
  readonly url: string
  readonly heartbeatMs: number | null
  readonly error?: string
}

export const probeParent: Effect.Effect<ParentProbe, never, Engine | Settings> = Effect.gen(function* () {
  const engine = yield* Engine
  const { settings } = yield* Settings
  const owner = ownerOf(settings)
  const configured = settings.chromadbPort
  // The heartbeat on the configured port runs beside the inspect; asked again only if the parent publishes another.
  const [found, guess] = yield* Effect.all([engine.inspectContainer(parentName(settings.instance)).pipe(Effect.either), heartbeat(configured, 1500)], {
    concurrency: "unbounded"
  })
  if (found._tag === "Left") {
    return { state: "unknown", healthy: false, url: chromaUrl(configured), heartbeatMs: null, error: found.left.message } as const
  }
  if (Option.isNone(found.right)) return { state: "absent", healthy: false, url: chromaUrl(configured), heartbeatMs: null } as const
  const c = found.right.value
  if (ownershipOf(c.Config.Labels, owner) !== "ours") return { state: "not-ours", healthy: false, url: chromaUrl(configured), heartbeatMs: null } as const
  const state = c.State.Restarting ? "restarting" : c.State.Running ? "running" : "stopped"
  const port = publishedPort(c) ?? configured
  const hb = state !== "running" ? undefined : port === configured ? guess : yield* heartbeat(port, 1500)
  return {
    state,
    healthy: hb?.ok ?? false,
    url: chromaUrl(port),
    heartbeatMs: hb?.ok ? hb.ms : null,
    ...(hb?.error ? { error: `ChromaDB: ${hb.error}` } : {})
  } as const
}).pipe(
  Effect.timeoutTo({
    duration: PROBE_DEADLINE,
    onSuccess: (p): ParentProbe => p,
    onTimeout: (): ParentProbe => ({
      state: "unknown",
      healthy: false,
      url: "",
      heartbeatMs: null,
      error: `the engine did not answer within ${Duration.toSeconds(PROBE_DEADLINE)}s`
    })
  })
)
