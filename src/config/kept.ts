/**
 * Worker and pool settings given to `daemon start` (the guide's recipes: `WORKER_MEMORY=8g claudy daemon start`,
 * `ENABLE_POOL_MANAGER=true MIN_WARM_WORKERS=3 claudy daemon start`) are kept in HAL9000_HOME/settings.json and read by
 * every later command, below the environment and flags: flag > environment > kept > default. The parent itself never
 * reads them, so keeping them never recreates it.
 */
import { Effect, Either, Schema } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { StateError } from "../domain/errors.ts"
import { writeJsonAtomic } from "../state/atomicJson.ts"
import { fsError } from "../state/hostFile.ts"
import type { ResolvedSetting } from "./variables.ts"

/** The settings `daemon start` keeps: what workers and the warm pool use, never the parent's own. */
export const KEPT_VARIABLES: ReadonlyArray<string> = [
  "WORKER_IMAGE",
  "WORKER_MEMORY",
  "WORKER_CPUS",
  "WORKER_PIDS_LIMIT",
  "ENABLE_POOL_MANAGER",
  "MIN_WARM_WORKERS",
  "MAX_WARM_WORKERS",
  "IDLE_TIMEOUT",
  "CHECK_INTERVAL",
  // the workers' chroma tools embed with it, and so must the host's `claudy mcp chroma`
  "HAL9000_EMBEDDING"
]

export const keptFile = (home: string) => join(home, "settings.json")

const KeptFile = Schema.Struct({
  settings: Schema.Record({ key: Schema.String, value: Schema.String }),
  updated_at: Schema.String,
  by: Schema.String
})

const FIX = "run `claudy daemon start` with the settings again, or delete the file to forget them"

/** The kept raw values (only keepable names); none when the file is absent. A damaged file is a clear error. */
export const readKept = (home: string): Either.Either<Record<string, string>, StateError> => {
  const path = keptFile(home)
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return Either.right({})
    return Either.left(fsError(path, "read the kept settings in")(e))
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Either.left(new StateError({ path, operation: "read the kept settings in", detail: "not valid JSON", fix: FIX }))
  }
  return Either.match(Schema.decodeUnknownEither(KeptFile)(json), {
    onLeft: () =>
      Either.left(new StateError({ path, operation: "read the kept settings in", detail: "not a claudy settings file", fix: FIX })),
    onRight: (f) => Either.right(Object.fromEntries(Object.entries(f.settings).filter(([k]) => KEPT_VARIABLES.includes(k))))
  })
}

/** What a `daemon start` run keeps (pure): its keepable settings that came from the environment or a flag. */
export const keptUpdates = (sources: ReadonlyArray<ResolvedSetting>): Record<string, string> =>
  Object.fromEntries(
    sources.filter((s) => KEPT_VARIABLES.includes(s.name) && (s.source === "env" || s.source === "flag")).map((s) => [s.name, s.raw])
  )

/** Merge `updates` into the kept settings (others stay as kept before). Returns the names that changed. */
export const keepSettings = (home: string, updates: Record<string, string>, by: string) =>
  Effect.gen(function* () {
    const before = yield* Either.match(readKept(home), { onLeft: () => Effect.succeed({}), onRight: Effect.succeed })
    const changed = Object.keys(updates).filter((k) => (before as Record<string, string>)[k] !== updates[k])
    if (changed.length === 0) return changed
    yield* writeJsonAtomic(keptFile(home), { settings: { ...before, ...updates }, updated_at: new Date().toISOString(), by })
    return changed
  })
