/** HAL9000_HOME: where claudy keeps its records. Created 0700; its resolved path names this claudy's objects. */
import { Effect } from "effect"
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs"
import { UsageError } from "../domain/errors.ts"
import { homeHash, type Owner } from "../domain/labels.ts"
import type { Settings } from "../config/variables.ts"
import { fsError } from "./hostFile.ts"

const resolved = (home: string) => {
  try {
    return realpathSync(home)
  } catch {
    return home
  }
}

/** Labels need only the path, not the directory: reads (status) work before the home exists. */
export const ownerOf = (s: Settings): Owner => ({ instance: s.instance, home: homeHash(resolved(s.home)) })

export const ensureHome = (s: Settings) =>
  Effect.try({
    try: () => {
      // mode is masked by umask, so set it again, but only on directories this call created:
      // an existing HAL9000_HOME is the user's, and `claudy doctor` reports unsafe permissions instead.
      for (const dir of [s.home, ...["sessions", "pool", "pool/workers", "logs"].map((d) => `${s.home}/${d}`)]) {
        const created = mkdirSync(dir, { recursive: true, mode: 0o700 })
        if (created !== undefined) chmodSync(dir, 0o700)
      }
      // One HAL9000_HOME serves one instance: slots, claims and the pool's files are not kept apart by instance.
      const marker = `${s.home}/instance`
      if (!existsSync(marker)) {
        try {
          writeFileSync(marker, `${s.instance}\n`, { mode: 0o600, flag: "wx" })
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e // a concurrent first run wrote it
        }
      }
      return readFileSync(marker, "utf8").trim()
    },
    catch: fsError(s.home, "use")
  }).pipe(
    Effect.flatMap((bound) =>
      bound === s.instance
        ? Effect.void
        : Effect.fail(
            new UsageError({
              detail: `HAL9000_HOME ${s.home} belongs to HAL9000_INSTANCE=${bound}, not ${s.instance}`,
              fix: `use another HAL9000_HOME for instance ${s.instance}, or set HAL9000_INSTANCE=${bound}`
            })
          )
    )
  )
