/** The image a spawn's profile runs on; a detected profile whose image was never built falls back to base. */
import { Effect, Option } from "effect"
import { ImageNotFound } from "../domain/errors.ts"
import type { EngineShape } from "../docker/Engine.ts"
import { type ProfileChoice, profileImage } from "../images/profiles.ts"

export interface ProfileImage {
  readonly image: string
  readonly profile: string
  /** a detected profile whose image is not built: the spawn runs on base and says how to build it */
  readonly missing?: { readonly profile: string; readonly image: string }
}

export const imageForProfile = (engine: EngineShape, workerImage: string, choice: ProfileChoice) =>
  Effect.gen(function* () {
    const image = profileImage(workerImage, choice.profile)
    // base is the worker image: looked at only when a create says it is missing (one call fewer on every spawn)
    if (choice.profile === "base") return { image, profile: "base" } satisfies ProfileImage
    if (Option.isSome(yield* engine.inspectImage(image))) return { image, profile: choice.profile } satisfies ProfileImage
    if (choice.how === "flag") return yield* new ImageNotFound({ image, role: "worker", profile: choice.profile })
    return { image: workerImage, profile: "base", missing: { profile: choice.profile, image } } satisfies ProfileImage
  })
