/** `claudy profiles list`: the language profiles, their images and whether each is built. */
import { Command } from "@effect/cli"
import { Console, Effect, Either, Option } from "effect"
import { Settings } from "../config/Settings.ts"
import { Engine } from "../docker/Engine.ts"
import { BUILTIN_PROFILES, customProfiles, customRecipe, DETECTION, profileImage } from "../images/profiles.ts"
import { jsonOption, printJson, setOption, table } from "./common.ts"
import { withSet } from "./services.ts"

const list = Command.make("list", { json: jsonOption, set: setOption }, ({ json, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const { settings } = yield* Settings
      const engine = yield* Engine
      const custom = customProfiles(settings.home)
      const names = [...BUILTIN_PROFILES.filter((p) => !custom.includes(p)), ...custom]
      const rows = yield* Effect.forEach(
        names,
        (name) =>
          Effect.gen(function* () {
            const image = profileImage(settings.workerImage, name)
            const problem = custom.includes(name) ? Either.getLeft(customRecipe(settings.home, name, settings.workerImage)) : Option.none()
            return {
              name,
              kind: custom.includes(name) ? "custom" : "built-in",
              image,
              built: Option.isSome(yield* engine.inspectImage(image)),
              detected_by: DETECTION.find(([p]) => p === name)?.[1] ?? [],
              problem: Option.getOrNull(problem)
            }
          }),
        { concurrency: 4 }
      )
      if (json) return yield* printJson(rows)
      yield* Console.log(
        table([
          ["PROFILE", "KIND", "IMAGE", "BUILT", "DETECTED BY"],
          ...rows.map((r) => [
            r.name,
            r.kind,
            r.image,
            r.built ? "yes" : r.name === "base" ? "no (claudy images build worker)" : `no (claudy images build --profile ${r.name})`,
            r.problem ?? (r.detected_by.join(", ") || (r.name === "base" ? "(anything else)" : "-"))
          ])
        ])
      )
    })
  )
).pipe(Command.withDescription("List the language profiles (built-in and HAL9000_HOME/profiles/<name>/Dockerfile), their images and whether each is built"))

export const profilesCommand = Command.make("profiles").pipe(
  Command.withDescription("Language profiles: worker images with a language's tools, chosen by --profile or from the project's files"),
  Command.withSubcommands([list])
)
