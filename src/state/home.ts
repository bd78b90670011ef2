/** HAL9000_HOME: where claudy keeps its records. Created 0700; its resolved path names this claudy's objects. */
import { Effect } from "effect"
import { chmodSync, mkdirSync, realpathSync } from "node:fs"
import { StateError } from "../domain/errors.ts"
import { homeHash, type Owner } from "../domain/labels.ts"
import type { Settings } from "../config/variables.ts"

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
    },
    catch: (e) =>
      new StateError({ path: s.home, operation: "create", detail: e instanceof Error ? e.message : String(e) })
  })
