/**
 * The claudy executable workers mount, so the `claudy mcp chroma` a worker runs is the very build of the host.
 * A compiled claudy is its own process.execPath; run from source (Deno, `bun run`), the checkout's dist/claudy
 * serves if it was built. Without either, workers get no chroma tools (docs/TROUBLESHOOTING.md says so).
 */
import { existsSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Settings } from "../config/variables.ts"

const RUNTIMES = new Set(["bun", "node", "deno", "bun.exe", "node.exe", "deno.exe"])

export const claudyExecutable = (): string | null => {
  if (!RUNTIMES.has(basename(process.execPath))) return process.execPath
  try {
    const built = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "claudy")
    return existsSync(built) ? built : null
  } catch {
    return null
  }
}

let cached: string | null | undefined
/** What a worker's shape takes from the memory settings: the binary to mount and the embedding (as written). */
export const workerMemory = (settings: Pick<Settings, "embedding">) => ({
  claudyBinary: cached === undefined ? (cached = claudyExecutable()) : cached,
  embedding: settings.embedding.raw
})
