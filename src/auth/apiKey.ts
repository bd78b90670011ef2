/**
 * Where a worker's Claude Code gets its credentials, in this order:
 *   1. ANTHROPIC_API_KEY in claudy's own environment;
 *   2. the key file HAL9000_HOME/secrets/anthropic_key (the original system's), only when it belongs to the user
 *      running claudy and no one else may read it (0400 or 0600);
 *   3. the login kept in the Claude home volume (`claudy login`, or /login in any session).
 * A key (1 or 2) reaches the worker as a 0400 file in its slot, never as an environment variable (pool/slot.ts).
 */
import { Effect } from "effect"
import { readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import type { Settings } from "../config/variables.ts"
import { UsageError } from "../domain/errors.ts"

export const keyFile = (home: string) => join(home, "secrets", "anthropic_key")

export type KeySource = "env" | "file" | "none"

export interface ApiKey {
  readonly source: KeySource
  /** empty when the source is "none" */
  readonly key: string
  readonly path?: string
}

/** Why a key file may not be used (pure): it must be the caller's and readable by no one else. */
export const keyFileProblem = (st: { readonly uid: number; readonly mode: number; readonly isFile: boolean }, myUid: number) =>
  !st.isFile
    ? "it is not a regular file"
    : st.uid !== myUid
      ? `it belongs to uid ${st.uid}, not to you (uid ${myUid})`
      : (st.mode & 0o077) !== 0
        ? `its mode is ${(st.mode & 0o777).toString(8).padStart(4, "0")}: group or others may read it`
        : undefined

const unsafe = (path: string, problem: string) =>
  new UsageError({
    detail: `the API key file ${path} is refused: ${problem}`,
    fix: `chown $(id -u) ${path} && chmod 0400 ${path}   (or remove it and export ANTHROPIC_API_KEY instead)`
  })

/** The key a session gets, and where it came from. A key file that exists but is unsafe or empty is an error. */
export const resolveApiKey = (settings: Pick<Settings, "anthropicApiKey" | "home">): Effect.Effect<ApiKey, UsageError> =>
  Effect.suspend((): Effect.Effect<ApiKey, UsageError> => {
    if (settings.anthropicApiKey !== "") return Effect.succeed({ source: "env", key: settings.anthropicApiKey })
    const path = keyFile(settings.home)
    let st
    try {
      st = statSync(path)
    } catch {
      return Effect.succeed({ source: "none", key: "" })
    }
    const myUid = typeof process.getuid === "function" ? process.getuid() : st.uid
    const problem = keyFileProblem({ uid: st.uid, mode: st.mode, isFile: st.isFile() }, myUid)
    if (problem !== undefined) return Effect.fail(unsafe(path, problem))
    let key: string
    try {
      key = readFileSync(path, "utf8").trim()
    } catch (e) {
      return Effect.fail(unsafe(path, `it cannot be read (${e instanceof Error ? e.message : String(e)})`))
    }
    if (key === "" || /\s/.test(key)) return Effect.fail(unsafe(path, key === "" ? "it is empty" : "it holds more than one word"))
    return Effect.succeed({ source: "file", key, path })
  })
