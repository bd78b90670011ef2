/**
 * Records under HAL9000_HOME are written atomically (temp file in the same directory, fsync, rename) with 0600 files
 * in 0700 directories, so a crash or a full disk never leaves a truncated JSON behind.
 *
 * Only the fsync waits off the event loop: it waits for the disk's journal, which under a burst of container starts
 * took tens of ms, and in the control server a synchronous one stopped every other request for that long (profiled);
 * the rest is synchronous (each asynchronous file call costs a round trip through the thread pool, ≈ 0.5 ms).
 */
import { Effect } from "effect"
import { closeSync, fsync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs"
import { dirname, join } from "node:path"
import { fsError, hostFile, listDir } from "./hostFile.ts"

const fsyncOf = (fd: number) =>
  Effect.async<void, NodeJS.ErrnoException>((resume) => fsync(fd, (e) => resume(e ? Effect.fail(e) : Effect.void)))

export const writeJsonAtomic = (path: string, value: unknown) =>
  Effect.gen(function* () {
    // pid and a random part: one process (the control server) may write the same record twice at once
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
    const fd = yield* hostFile(path, "write", () => {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
      return openSync(tmp, "wx", 0o600)
    })
    // a write that fails (a full disk) leaves no temp file behind, nor a truncated record
    return yield* Effect.try({ try: () => void writeSync(fd, `${JSON.stringify(value, null, 2)}\n`), catch: fsError(path, "write") }).pipe(
      Effect.zipRight(Effect.mapError(fsyncOf(fd), fsError(path, "write"))),
      Effect.ensuring(Effect.sync(() => closeSync(fd))),
      Effect.zipRight(hostFile(path, "write", () => renameSync(tmp, path))),
      Effect.tapError(() => Effect.sync(() => rmSync(tmp, { force: true })))
    )
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
