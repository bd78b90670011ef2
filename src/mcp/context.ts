/**
 * Where the chroma tools send their calls and which embedding they compute, from the environment: in a worker,
 * CHROMADB_URL (set by claudy for --via-parent workers: the parent's namespace, localhost); on the host, the parent's
 * published port CHROMADB_PORT on 127.0.0.1. The settings are validated like every command's (resolveSettings);
 * a bad one fails each call with the same message and fix `claudy config` would give, and the server stays up.
 */
import { Effect, Either } from "effect"
import { describeError } from "../cli/report.ts"
import { resolveSettings, variableNames } from "../config/variables.ts"
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
  Effect.suspend(() => {
    const resolved = resolveSettings({ env: Object.fromEntries(variableNames().map((n) => [n, env[n]])) })
    if (Either.isLeft(resolved)) {
      const r = describeError(resolved.left)
      return Effect.fail(failure(`${r.message}. Fix: ${r.hint}`))
    }
    const s = resolved.right.settings
    return Either.match(chromaUrl(env, s.chromadbPort), {
      onLeft: Effect.fail,
      onRight: (url): Effect.Effect<ToolContext> =>
        Effect.succeed({
          chroma: chromaClient(url),
          embed: embedder(s.embedding.setting),
          embedding: embeddingId(s.embedding.setting),
          embeddingSetting: s.embedding.raw
        })
    })
  })
