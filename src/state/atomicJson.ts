/**
 * Records under HAL9000_HOME are written atomically (temp file in the same directory, fsync, rename) with 0600 files
 * in 0700 directories, so a crash or a full disk never leaves a truncated JSON behind.
 */
import { Effect } from "effect"
import { mkdirSync, readFileSync, renameSync, rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { fsError, hostFile, listDir, writeNewFileSync } from "./hostFile.ts"

export const writeJsonAtomic = (path: string, value: unknown) =>
  hostFile(path, "write", () => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`
    writeNewFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { fsync: true })
    try {
      renameSync(tmp, path)
    } catch (e) {
      rmSync(tmp, { force: true })
      throw e
    }
  })

export type JsonRead = { readonly _tag: "ok"; readonly value: unknown } | { readonly _tag: "corrupt"; readonly reason: string }

/** Every `*.json` in `dir` with its parsed content or why it could not be parsed; a missing dir is empty. */
export const readJsonDir = (dir: string) =>
  Effect.map(listDir(dir, "read the records in"), (all) =>
    all.filter((n) => n.endsWith(".json")).sort().map((name): { file: string; read: JsonRead } => {
      const file = join(dir, name)
      let text: string
      try {
        text = readFileSync(file, "utf8")
      } catch (e) {
        return { file, read: { _tag: "corrupt", reason: `unreadable (${fsError(file, "read")(e).detail})` } }
      }
      if (text.trim() === "") return { file, read: { _tag: "corrupt", reason: "empty file" } }
      try {
        return { file, read: { _tag: "ok", value: JSON.parse(text) } }
      } catch (e) {
        return { file, read: { _tag: "corrupt", reason: `not valid JSON (${e instanceof Error ? e.message : String(e)})` } }
      }
    })
  )

export const removeFile = (path: string) => hostFile(path, "remove", () => rmSync(path, { force: true, recursive: true }))
