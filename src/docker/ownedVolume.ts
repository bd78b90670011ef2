/** A named volume as claudy may use it: absent, or ours; one of another HAL9000_HOME or unlabelled is refused. */
import { Effect, Option } from "effect"
import { ForeignObject } from "../domain/errors.ts"
import { describeOwner, type Owner, ownershipOf } from "../domain/labels.ts"
import type { EngineError, EngineShape } from "./Engine.ts"
import type { VolumeInspect } from "./types.ts"

export const ownedVolume = (
  engine: EngineShape,
  owner: Owner,
  name: string
): Effect.Effect<Option.Option<VolumeInspect>, ForeignObject | EngineError> =>
  Effect.flatMap(engine.inspectVolume(name), (found): Effect.Effect<Option.Option<VolumeInspect>, ForeignObject> => {
    if (Option.isNone(found)) return Effect.succeed(found)
    const ownership = ownershipOf(found.value.Labels, owner)
    return ownership === "ours"
      ? Effect.succeed(found)
      : Effect.fail(new ForeignObject({ kind: "volume", name, owner: describeOwner(found.value.Labels, ownership) }))
  })
