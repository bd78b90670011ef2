/**
 * HAL9000_EMBEDDING: which embedding `claudy mcp chroma` computes for documents and queries (pure parse).
 * ChromaDB's server stores vectors; the client computes them. The default needs nothing fetched at run time.
 */
import { Either } from "effect"

export type EmbeddingSetting =
  | { readonly kind: "hash" }
  | { readonly kind: "ollama" | "openai"; readonly model: string; readonly url: string }

export const DEFAULT_EMBEDDING = "hash"
export const EMBEDDING_FORM = "hash, ollama:MODEL@http://HOST:11434 or openai:MODEL@http://HOST:PORT/v1"

/** `hash`, or `KIND:MODEL@URL` with an http(s) URL (the endpoint's root: Ollama's, or an OpenAI-compatible /v1). */
export const parseEmbedding = (raw: string): Either.Either<EmbeddingSetting, string> => {
  if (raw === "hash") return Either.right({ kind: "hash" })
  const m = /^(ollama|openai):([^@\s]+)@(\S+)$/.exec(raw)
  if (m === null) return Either.left(EMBEDDING_FORM)
  let url: URL
  try {
    url = new URL(m[3]!)
  } catch {
    return Either.left(`${EMBEDDING_FORM} (the URL after @ is not one)`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return Either.left(`${EMBEDDING_FORM} (http or https)`)
  return Either.right({ kind: m[1] as "ollama" | "openai", model: m[2]!, url: m[3]!.replace(/\/+$/, "") })
}

/** Hashed bag of words: the version changes whenever its vectors would (tokens, features, dimensions). */
export const HASH_DIMENSIONS = 512
const HASH_ID = `claudy-hash-v1-${HASH_DIMENSIONS}`

/**
 * What a collection records as the embedding it was made with. The model names the vectors, not the address that
 * serves it: the same model behind another URL gives the same vectors.
 */
export const embeddingId = (e: EmbeddingSetting): string => (e.kind === "hash" ? HASH_ID : `${e.kind}:${e.model}`)
