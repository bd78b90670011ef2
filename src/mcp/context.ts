/**
 * Where the chroma tools send their calls and which embedding they compute, from the environment: in a worker,
 * CHROMADB_URL (set by claudy for --via-parent workers: the parent's namespace, localhost); on the host, the parent's
 * published port CHROMADB_PORT on 127.0.0.1. The settings are read like every command's (Settings.load: the
 * environment over what `daemon start` kept, so the host embeds like the workers it spawned);
 * a bad one fails each call with the same message and fix `claudy config` would give, and the server stays up.
 */
import { Effect, Either } from "effect"
import { describeError } from "../cli/report.ts"
import { Settings } from "../config/Settings.ts"
import { chromaClient } from "./chromaHttp.ts"
import { embedder } from "./embedder.ts"
import { embeddingId } from "./embeddingSetting.ts"
import { failure } from "./errors.ts"
import type { ToolContext } from "./tools.ts"

const chromaUrl = (env: Readonly<Record<string, string | undefined>>, port: number) => {
  const raw = env.CHROMADB_URL
  if (raw === undefined || raw === "") return Either.right(`http://127.0.0.1:${port}`)
  try {
    const u = new URL(raw)
    if (u.protocol === "http:" || u.protocol === "https:") return Either.right(raw)
  } catch {
    // reported below
  }
  return Either.left(failure(`CHROMADB_URL is '${raw}': expected an http URL like http://localhost:8000 (or unset it on the host)`))
}

export const toolContext = (env: Readonly<Record<string, string | undefined>> = process.env) =>
  Settings.load({}, env).pipe(
    Effect.mapError((e) => {
      const r = describeError(e)
      return failure(`${r.message}. Fix: ${r.hint}`)
    }),
    Effect.flatMap(({ settings: s }) =>
      Either.match(chromaUrl(env, s.chromadbPort), {
      onLeft: Effect.fail,
      onRight: (url): Effect.Effect<ToolContext> =>
        Effect.succeed({
          chroma: chromaClient(url),
          embed: embedder(s.embedding.setting),
          embedding: embeddingId(s.embedding.setting),
          embeddingKind: s.embedding.setting.kind,
          embeddingSetting: s.embedding.raw,
          collections: new Map()
        })
      })
    )
  )

/** The context resolved once per server (the settings are read at the first call), its failure included. */
export const cachedToolContext = () => Effect.runSync(Effect.cached(toolContext()))
