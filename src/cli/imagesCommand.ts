import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { Settings } from "../config/Settings.ts"
import { Engine } from "../docker/Engine.ts"
import { Images } from "../images/Images.ts"
import { buildProfile } from "../images/profileBuild.ts"
import { type ImageKind, RECIPES } from "../images/recipes.ts"
import { setOption } from "./common.ts"
import { withSet } from "./services.ts"

const which = Args.choice<"all" | ImageKind>([
  ["all", "all"],
  ["parent", "parent"],
  ["worker", "worker"]
], { name: "image" }).pipe(Args.withDefault("all" as const), Args.withDescription("Which image to build: all, parent or worker"))

const baseOption = Options.text("base").pipe(
  Options.withDefault("debian:trixie-slim"),
  Options.withDescription("Base image (Debian trixie or newer: ChromaDB's bindings need glibc >= 2.39)")
)
const caOption = Options.file("ca-cert", { exists: "yes" }).pipe(
  Options.repeated,
  Options.withDescription("Extra CA certificate (PEM) trusted by apt and npm during the build, e.g. a proxy's (repeatable)")
)
const forceOption = Options.boolean("force").pipe(Options.withDescription("Rebuild even when an identical image exists"))
const profileOption = Options.text("profile").pipe(
  Options.optional,
  Options.withDescription("Build a language profile's image on top of the worker image instead: python, node, java or a custom one (claudy profiles list)")
)

const build = Command.make(
  "build",
  { which, base: baseOption, caCert: caOption, force: forceOption, profile: profileOption, set: setOption },
  ({ which, base, caCert, force, profile, set }) =>
    withSet(
      set,
        Effect.gen(function* () {
          const { settings } = yield* Settings
          yield* (yield* Engine).ping
          if (Option.isSome(profile)) {
            yield* Console.error(`Building profile ${profile.value} on ${settings.workerImage}`)
            const r = yield* buildProfile(profile.value, { caCertFiles: caCert, force, progress: (line) => process.stderr.write(`${line}\n`) })
            return yield* Console.log(`profile ${profile.value}: ${r.tag} ${r.reused ? "reused" : "built"} (${r.id.slice(7, 19)})`)
          }
          const images = yield* Images
          const kinds: ReadonlyArray<ImageKind> = which === "all" ? ["parent", "worker"] : [which]
          for (const kind of kinds) {
            const tag = kind === "parent" ? settings.parentImage : settings.workerImage
            yield* Console.error(`Building ${kind} image ${tag} from ${base}`)
            const r = yield* images.build({
              kind,
              tag,
              baseImage: base,
              caCertFiles: caCert,
              force,
              progress: (line) => process.stderr.write(`${line}\n`)
            })
            yield* Console.log(`${kind}: ${r.tag} ${r.reused ? "reused" : "built"} (${r.id.slice(7, 19)})`)
          }
        })
    )
).pipe(Command.withDescription("Build the parent and worker images from the Dockerfiles embedded in claudy, or with --profile NAME a language profile's image"))

const kindArg = Args.choice<ImageKind>([
  ["parent", "parent"],
  ["worker", "worker"]
], { name: "image" })

const dockerfile = Command.make("dockerfile", { kind: kindArg }, ({ kind }) =>
  Effect.forEach(Object.entries(RECIPES[kind].files), ([name, content]) => Console.log(`# ---- ${name}\n${content}`))
).pipe(Command.withDescription("Print the embedded Dockerfile and entrypoint of an image"))

export const imagesCommand = Command.make("images").pipe(
  Command.withDescription("Build and inspect claudy's container images"),
  Command.withSubcommands([build, dockerfile])
)
