/**
 * Texts to vectors with the configured embedding: the built-in hashed bag of words, or a model served by Ollama
 * (POST /api/embed) or an OpenAI-compatible endpoint (POST /embeddings). Both endpoints take a batch in one call.
 */
import { Effect } from "effect"
import type { EmbeddingSetting } from "./embeddingSetting.ts"
import { failure, type ToolFailure } from "./errors.ts"
import { hashEmbed } from "./hashEmbedding.ts"

export type Embed = (texts: ReadonlyArray<string>) => Effect.Effect<Array<Array<number>>, ToolFailure>

const isVectors = (v: unknown, n: number): v is Array<Array<number>> =>
  Array.isArray(v) && v.length === n && v.every((x) => Array.isArray(x) && x.length > 0 && x.every((y) => typeof y === "number"))

export const embedder = (e: EmbeddingSetting): Embed => {
  if (e.kind === "hash") return (texts) => Effect.sync(() => texts.map((t) => hashEmbed(t)))
  const [path, pick] =
    e.kind === "ollama"
      ? ["/api/embed", (j: any) => j?.embeddings]
      : ["/embeddings", (j: any) => (Array.isArray(j?.data) ? [...j.data].sort((a, b) => a.index - b.index).map((d) => d.embedding) : undefined)]
  const where = `${e.kind} embedding endpoint ${e.url}${path} (model ${e.model}, from HAL9000_EMBEDDING)`
  return (texts) =>
    texts.length === 0
      ? Effect.succeed([])
      : Effect.tryPromise({
          try: async (signal) => {
            const res = await fetch(`${e.url}${path}`, {
              method: "POST",
              signal,
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ model: e.model, input: texts })
            })
            return { ok: res.ok, status: res.status, text: await res.text() }
          },
          catch: (err) => failure(`the ${where} does not answer: ${err instanceof Error ? err.message : String(err)}`)
        }).pipe(
          Effect.flatMap((r) => {
            if (!r.ok) return Effect.fail(failure(`the ${where} answered ${r.status}: ${r.text.slice(0, 300)}`))
            let vectors: unknown
            try {
              vectors = pick(JSON.parse(r.text))
            } catch {
              vectors = undefined
            }
            return isVectors(vectors, texts.length)
              ? Effect.succeed(vectors)
              : Effect.fail(failure(`the ${where} answered without ${texts.length} embedding(s): ${r.text.slice(0, 300)}`))
          })
        )
}
