/** Build a profile's image on top of the worker image (reused while its recipe and the worker image are the same). */
import { Effect, Either, Option } from "effect"
import { Settings } from "../config/Settings.ts"
import { ImageNotFound, UsageError } from "../domain/errors.ts"
import { Engine } from "../docker/Engine.ts"
import { Images } from "./Images.ts"
import { builtinRecipe, chooseProfile, customProfiles, customRecipe, isBuiltin, profileImage } from "./profiles.ts"

export interface ProfileBuildOptions {
  readonly caCertFiles: ReadonlyArray<string>
  readonly force: boolean
  readonly progress: (line: string) => void
}

export const buildProfile = (name: string, o: ProfileBuildOptions) =>
  Effect.gen(function* () {
    const { settings } = yield* Settings
    const engine = yield* Engine
    const images = yield* Images
    const chosen = chooseProfile(name, ".", settings.home)
    if (Either.isLeft(chosen)) return yield* new UsageError({ detail: chosen.left, fix: "claudy profiles list shows the profiles" })
    if (name === "base") {
      return yield* new UsageError({ detail: "the base profile is the worker image itself", fix: "claudy images build worker" })
    }
    // A custom profile of a built-in's name replaces it (the user's Dockerfile is the one they mean).
    const recipe = customProfiles(settings.home).includes(name)
      ? customRecipe(settings.home, name, settings.workerImage)
      : isBuiltin(name) && name !== "base"
        ? Either.right(builtinRecipe(name))
        : Either.left(`there is no profile '${name}'`)
    if (Either.isLeft(recipe)) {
      return yield* new UsageError({ detail: recipe.left, fix: "a custom profile's Dockerfile starts with: ARG WORKER_IMAGE, then FROM ${WORKER_IMAGE}" })
    }
    const worker = yield* engine.inspectImage(settings.workerImage)
    if (Option.isNone(worker)) return yield* new ImageNotFound({ image: settings.workerImage, role: "worker" })
    return yield* images.build({
      kind: "worker",
      tag: profileImage(settings.workerImage, name),
      baseImage: settings.workerImage,
      caCertFiles: o.caCertFiles,
      force: o.force,
      recipe: recipe.right,
      buildArgs: { WORKER_IMAGE: settings.workerImage },
      // a rebuilt worker image makes every profile image stale
      hashAlso: { profile: name, worker: worker.value.Id },
      progress: o.progress
    })
  })
