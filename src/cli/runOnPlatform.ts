/**
 * What the Bun and the Node/Deno programs share: the platform services @effect/cli needs (file system, path, and a
 * Terminal built on first use), the HTTP server that only `daemon run` loads, claudy's logger, and the one program
 * with its teardown. Each entry gives only its platform's pieces.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { HttpServer } from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import type { Path } from "@effect/platform/Path"
import type { RunMain } from "@effect/platform/Runtime"
import type { Terminal } from "@effect/platform/Terminal"
import { Effect, Layer, type Scope } from "effect"
import { HttpServe } from "../observe/HttpServe.ts"
import { withLogger } from "../observe/logger.ts"
import { withColourPolicy } from "./colourPolicy.ts"
import { lazyTerminal } from "./lazyTerminal.ts"
import { program, teardown } from "./program.ts"

export interface PlatformParts {
  readonly fileSystem: Layer.Layer<FileSystem>
  readonly path: Layer.Layer<Path>
  readonly terminal: Effect.Effect<Terminal, never, Scope.Scope>
  /** The platform's HTTP server on an address; its modules are imported only when `daemon run` asks. */
  readonly serve: (address: { readonly host: string; readonly port: number }) => Promise<Layer.Layer<HttpServer, ServeError>>
}

export const runOnPlatform = (runMain: RunMain, parts: PlatformParts) => {
  const platform = Layer.mergeAll(
    parts.fileSystem,
    parts.path,
    lazyTerminal(parts.terminal),
    Layer.succeed(HttpServe, (a) => Layer.unwrapEffect(Effect.promise(() => parts.serve(a))))
  )
  runMain(withLogger(program(process.argv).pipe(withColourPolicy, Effect.provide(platform))), {
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown
  })
}
