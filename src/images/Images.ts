/**
 * Images: make sure one is present (pull if missing, per policy) and build the embedded recipes.
 * Builds stream progress, so they go through dockerode (loaded only here); everything else uses the Engine.
 */
import { Context, Effect, Layer, Option } from "effect"
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { Settings } from "../config/Settings.ts"
import { ImageBuildFailed, ImageNotFound, type StateError } from "../domain/errors.ts"
import { fingerprint, LABEL } from "../domain/labels.ts"
import { loadDockerode } from "../docker/dockerode.ts"
import { Engine, type EngineError } from "../docker/Engine.ts"
import type { ImageInspect } from "../docker/types.ts"
import { fsError, hostFile } from "../state/hostFile.ts"
import { VERSION } from "../version.ts"
import type { PullPolicy } from "./pullPolicy.ts"
import { type ImageKind, RECIPES } from "./recipes.ts"

export interface BuildRequest {
  readonly kind: ImageKind
  readonly tag: string
  readonly baseImage: string
  readonly caCertFiles: ReadonlyArray<string>
  readonly force: boolean
  /** where progress lines go */
  readonly progress: (line: string) => void
}

export type BuildOutcome = { readonly tag: string; readonly id: string; readonly reused: boolean }

const readCerts = (files: ReadonlyArray<string>) =>
  Effect.forEach(files, (f) =>
    Effect.try({
      try: () => ({ name: basename(f).replace(/\.(pem|cer)$/, ".crt"), content: readFileSync(f, "utf8") }),
      catch: fsError(f, "read CA certificate")
    })
  )

const make = Effect.gen(function* () {
  const engine = yield* Engine
  const { settings } = yield* Settings

  const ensure = (image: string, kind: ImageKind, policy: PullPolicy): Effect.Effect<Option.Option<ImageInspect>, ImageNotFound | EngineError> =>
    Effect.gen(function* () {
      if (policy === "not-checked") return Option.none()
      const present = yield* engine.inspectImage(image)
      if (Option.isSome(present)) return present
      if (policy === "never") return yield* new ImageNotFound({ image, role: kind })
      yield* Effect.logInfo(`image ${image} not present: pulling`)
      const pulled = yield* engine.pullImage(image).pipe(
        Effect.as(undefined),
        Effect.catchTag("DockerApiError", (e) => Effect.succeed(e.detail))
      )
      const after = yield* engine.inspectImage(image)
      if (Option.isNone(after)) {
        return yield* new ImageNotFound({ image, role: kind, ...(pulled ? { pullError: pulled } : {}) })
      }
      return after
    })

  const build = (req: BuildRequest): Effect.Effect<BuildOutcome, ImageBuildFailed | StateError | EngineError> =>
    Effect.gen(function* () {
      const recipe = RECIPES[req.kind]
      const certs = yield* readCerts(req.caCertFiles)
      // Same recipe, base and certificates -> same image: reuse it unless --force.
      const hash = fingerprint({ files: recipe.files, base: req.baseImage, certs })
      const existing = yield* engine.inspectImage(req.tag)
      if (!req.force && Option.isSome(existing) && existing.value.Config?.Labels?.[LABEL.dockerfile] === hash) {
        req.progress(`${req.tag}: up to date (recipe ${hash}), reusing ${existing.value.Id.slice(7, 19)}`)
        return { tag: req.tag, id: existing.value.Id, reused: true }
      }
      const dir = yield* Effect.acquireRelease(
        hostFile(join(tmpdir(), `claudy-build-${req.kind}-*`), "create the build context", () => mkdtempSync(join(tmpdir(), `claudy-build-${req.kind}-`))),
        (d) => Effect.ignore(hostFile(d, "remove", () => rmSync(d, { recursive: true, force: true })))
      )
      yield* hostFile(dir, "write the build context into", () => {
        mkdirSync(join(dir, "extra-ca"))
        writeFileSync(join(dir, "extra-ca", ".keep"), "")
        for (const [name, content] of Object.entries(recipe.files)) writeFileSync(join(dir, name), content)
        for (const c of certs) writeFileSync(join(dir, "extra-ca", c.name), c.content)
      })
      const src = [...Object.keys(recipe.files), "extra-ca"]
      const address = engine.address
      const error = yield* Effect.tryPromise({
        try: async () => {
          const docker = await loadDockerode(address)
          const stream = await docker.buildImage(
            { context: dir, src },
            {
              t: req.tag,
              dockerfile: recipe.dockerfile,
              buildargs: { BASE_IMAGE: req.baseImage },
              labels: { [LABEL.managed]: "true", [LABEL.role]: "image", [LABEL.dockerfile]: hash, [LABEL.version]: VERSION },
              rm: true,
              forcerm: true
            }
          )
          return await new Promise<string | undefined>((resolve) => {
            let failure: string | undefined
            docker.modem.followProgress(
              stream,
              (err) => resolve(err ? String(err.message ?? err) : failure),
              (event: { stream?: string; error?: string; status?: string }) => {
                if (event.error) failure = event.error.trim()
                const line = (event.stream ?? event.status ?? event.error ?? "").trimEnd()
                if (line) req.progress(`${req.kind}: ${line}`)
              }
            )
          })
        },
        catch: (e) => new ImageBuildFailed({ image: req.tag, detail: e instanceof Error ? e.message : String(e) })
      })
      if (error !== undefined) return yield* new ImageBuildFailed({ image: req.tag, detail: error })
      const built = yield* engine.inspectImage(req.tag)
      if (Option.isNone(built)) return yield* new ImageBuildFailed({ image: req.tag, detail: "the engine reports no image after the build" })
      return { tag: req.tag, id: built.value.Id, reused: false }
    }).pipe(Effect.scoped)

  return { ensure, build, settings }
})

export class Images extends Context.Tag("claudy/Images")<Images, Effect.Effect.Success<typeof make>>() {
  /** The service from its dependencies (cli/services.ts builds them all this way, in one layer). */
  static make = make
  static layer = Layer.effect(Images, make)
}
