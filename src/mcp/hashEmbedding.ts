/**
 * The offline default embedding: a hashed bag of words (the "hashing trick", as in scikit-learn's HashingVectorizer).
 * Each word and each character trigram of a word is hashed into one of HASH_DIMENSIONS buckets with a hashed sign;
 * counts are damped (1 + log tf) and the vector is L2-normalised, so ChromaDB's default L2 distance ranks like cosine.
 * Pure TypeScript, deterministic, nothing downloaded, microseconds per document.
 *
 * Good at: finding documents that share words, names and identifiers with the query (code symbols, error messages,
 * file names), and inflected forms of them (the trigrams: "restart" finds "restarting").
 * Bad at: meaning without shared words ("car" does not find "automobile"), word order, and very large collections,
 * where unrelated words share buckets. Configure a real model (HAL9000_EMBEDDING) for semantic search.
 */
import { HASH_DIMENSIONS } from "./embeddingSetting.ts"

// Words that carry no topic: without this list they dominate short queries ("how do I …").
const STOPWORDS = new Set(
  ("a an and are as at be but by can do does for from had has have how i if in into is it its me my no not of on or " +
    "our so than that the their them then there these they this to was we were what when where which who why will " +
    "with you your")
    .split(" ")
)

/** FNV-1a, 32 bits: fast, well spread for short strings, and the same in every runtime. */
const fnv1a = (s: string, seed = 0x811c9dc5): number => {
  let h = seed >>> 0
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

/** Lower-case words of letters and digits, accents folded (é → e), stopwords dropped. */
export const tokenize = (text: string): Array<string> =>
  text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== "" && !STOPWORDS.has(w))

/** Feature counts: each word, and each character trigram of words of three letters or more ("<restart>"). */
const features = (words: ReadonlyArray<string>): Map<string, number> => {
  const f = new Map<string, number>()
  const add = (key: string) => f.set(key, (f.get(key) ?? 0) + 1)
  for (const w of words) {
    add(`w:${w}`)
    const padded = `<${w}>`
    if (padded.length > 4) for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`)
  }
  return f
}

// Trigrams weigh less than words: they make inflections meet without outvoting exact matches.
const TRIGRAM_WEIGHT = 0.25

export const hashEmbed = (text: string, dimensions = HASH_DIMENSIONS): Array<number> => {
  const v = new Array<number>(dimensions).fill(0)
  for (const [key, count] of features(tokenize(text))) {
    const weight = (key.startsWith("t:") ? TRIGRAM_WEIGHT : 1) * (1 + Math.log(count))
    const sign = fnv1a(key, 0x9747b28c) & 1 ? 1 : -1
    v[fnv1a(key) % dimensions]! += sign * weight
  }
  const norm = Math.hypot(...v)
  return norm === 0 ? v : v.map((x) => x / norm)
}
