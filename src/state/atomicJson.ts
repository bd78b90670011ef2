/**
 * Records under HAL9000_HOME are written atomically (temp file in the same directory, fsync, rename) with 0600 files
 * in 0700 directories, so a crash or a full disk never leaves a truncated JSON behind.
 */
import { Effect } from "effect"
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs"
import { dirname, join } from "node:path"
import { StateError } from "../domain/errors.ts"

const detail = (e: unknown) => (e instanceof Error ? e.message : String(e))

export const writeJsonAtomic = (path: string, value: unknown) =>
  Effect.try({
    try: () => {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
      // pid and a random part: one process (the control server) may write the same record twice at once
      const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
      try {
        const fd = openSync(tmp, "wx", 0o600)
        try {
          writeSync(fd, `${JSON.stringify(value, null, 2)}\n`)
          fsyncSync(fd)
        } finally {
          closeSync(fd)
        }
        renameSync(tmp, path)
      } catch (e) {
        rmSync(tmp, { force: true })
        throw e
      }
    },
    catch: (e) => new StateError({ path, operation: "write", detail: detail(e) })
  })

export type JsonRead = { readonly _tag: "ok"; readonly value: unknown } | { readonly _tag: "corrupt"; readonly reason: string }

/** Every `*.json` in `dir` with its parsed content or why it could not be parsed; a missing dir is empty. */
export const readJsonDir = (dir: string) =>
  Effect.sync(() => {
    let names: Array<string> = []
    try {
      names = readdirSync(dir).filter((n) => n.endsWith(".json")).sort()
    } catch {
      return []
    }
    return names.map((name): { file: string; read: JsonRead } => {
      const file = join(dir, name)
      try {
        const text = readFileSync(file, "utf8")
        if (text.trim() === "") return { file, read: { _tag: "corrupt", reason: "empty file" } }
        return { file, read: { _tag: "ok", value: JSON.parse(text) } }
      } catch (e) {
        return { file, read: { _tag: "corrupt", reason: `not valid JSON (${detail(e)})` } }
      }
    })
  })

export const removeFile = (path: string) =>
  Effect.try({
    try: () => rmSync(path, { force: true, recursive: true }),
    catch: (e) => new StateError({ path, operation: "remove", detail: detail(e) })
  })
