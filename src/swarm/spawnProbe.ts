/**
 * Whether a node can run a worker for a project, asked of the node's own engine: a container with the worker's
 * binds and image is created there (never started) and removed. The engine refuses a bind whose source is missing
 * (the project, or the claudy binary the worker mounts) and an image it does not have: such a node is avoided,
 * where the service's task would otherwise fail. Costs two calls per node, all nodes at once.
 */
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { ownerLabels, type Owner } from "../domain/labels.ts"
import type { EngineShape } from "../docker/Engine.ts"
import { VERSION } from "../version.ts"
import type { SwarmNode } from "./types.ts"

export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly why: string }

/** Why the engine refused the probe, in the user's terms (pure). */
export const probeRefusal = (status: number, detail: string): string =>
  /bind source path does not exist/i.test(detail)
    ? `no ${detail.replace(/^.*bind source path does not exist:\s*/i, "")}`
    : status === 404
      ? `no image (${detail})`
      : detail

export const probeNode = (
  engine: EngineShape,
  owner: Owner,
  image: string,
  binds: ReadonlyArray<string>
): Effect.Effect<ProbeResult> =>
  Effect.gen(function* () {
    const name = `${owner.instance}-probe-${randomBytes(4).toString("hex")}`
    const body = {
      Image: image,
      Entrypoint: ["true"],
      Labels: ownerLabels(owner, "helper", VERSION),
      NetworkDisabled: true,
      HostConfig: { Mounts: binds.map((b) => ({ Type: "bind", Source: b, Target: `/probe${b}`, ReadOnly: true })), NetworkMode: "none" }
    }
    const created = yield* Effect.either(engine.createContainer(name, body))
    if (created._tag === "Left") {
      const e = created.left
      return { ok: false, why: e._tag === "DockerApiError" ? probeRefusal(e.status, e.detail) : e.message } satisfies ProbeResult
    }
    yield* Effect.ignore(engine.removeContainer(created.right.Id, { force: true }))
    return { ok: true } satisfies ProbeResult
  })

/** Every candidate node probed at once; the ids of the ones that cannot run the worker, with why. */
export const probeNodes = (
  candidates: ReadonlyArray<SwarmNode>,
  engineOf: (n: SwarmNode) => Effect.Effect<EngineShape, { readonly message: string }>,
  owner: Owner,
  image: string,
  binds: ReadonlyArray<string>
) =>
  Effect.forEach(
    candidates,
    (n) =>
      Effect.map(
        Effect.either(Effect.flatMap(engineOf(n), (e) => probeNode(e, owner, image, binds))),
        (r): { readonly node: SwarmNode; readonly result: ProbeResult } => ({
          node: n,
          result: r._tag === "Left" ? { ok: false, why: r.left.message } : r.right
        })
      ),
    { concurrency: "unbounded" }
  )
