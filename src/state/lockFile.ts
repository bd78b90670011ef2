/**
 * Lock files that name their holder: `<pid> <note>`, created with O_EXCL. A file whose process is gone (or is a
 * zombie, or fails the caller's own check) is stale and taken over. Used for the pool manager's pid file, the
 * maintenance lock and session-name reservations.
 */
import { Effect } from "effect"
import { mkdirSync, readFileSync, rmSync } from "node:fs"
import { dirname } from "node:path"
import { StateError } from "../domain/errors.ts"
import { createExclusive, hostFile, writeNewFileSync } from "./hostFile.ts"

/** Alive and not a zombie (a detached process's parent may not reap it). */
export const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"))
  } catch {
    return true // no /proc (not Linux): trust kill(0)
  }
}

export interface Holder {
  readonly pid: number
  readonly note: string
}

/** The pid and note a lock file names, alive or not; undefined when it is absent or names no pid. */
export const readLock = (path: string): Holder | undefined => {
  try {
    const [pid, ...note] = readFileSync(path, "utf8").trim().split(" ")
    const n = Number(pid)
    return Number.isInteger(n) && n > 0 ? { pid: n, note: note.join(" ") } : undefined
  } catch {
    return undefined
  }
}

/** The lock, if a live process other than this one holds it (per `isHolder`); otherwise it is stale or ours. */
const liveHolder = (lock: Holder | undefined, isHolder: (pid: number) => boolean) =>
  lock !== undefined && lock.pid !== process.pid && isHolder(lock.pid) ? lock : undefined

/** Who holds the lock at `path`, if a live process other than this one does (per `isHolder`, default: alive). */
export const lockHolder = (path: string, isHolder: (pid: number) => boolean = processAlive) =>
  Effect.sync(() => liveHolder(readLock(path), isHolder))

/** Remove the lock file only while it still names `pid`: a newer holder's file is left alone. */
export const removeIfHeldBy = (path: string, pid: number) => {
  if (readLock(path)?.pid !== pid) return
  try {
    rmSync(path, { force: true })
  } catch {
    // already gone
  }
}

/**
 * Hold the lock for the enclosing scope (released only if it is still ours). A live holder fails with `onHeld`.
 */
export const lockFile = <E>(
  path: string,
  note: string,
  onHeld: (holder: Holder) => E,
  isHolder: (pid: number) => boolean = processAlive
) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      for (let attempt = 0; attempt < 2; attempt++) {
        const created = yield* createExclusive(path, "create", () => {
          mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
          writeNewFileSync(path, `${process.pid}${note ? ` ${note}` : ""}\n`)
        })
        if (created) return path
        const found = readLock(path)
        const holder = liveHolder(found, isHolder)
        if (holder) return yield* Effect.fail(onHeld(holder))
        // Stale. Removed only while it still names the stale pid: two processes that both found it stale must not
        // remove each other's new lock. A file that names no pid is removed as it is.
        if (found !== undefined) removeIfHeldBy(path, found.pid)
        else yield* hostFile(path, "remove the stale lock", () => rmSync(path, { force: true }))
      }
      return yield* new StateError({ path, operation: "take", detail: "another process keeps taking it" })
    }),
    (p) => Effect.sync(() => removeIfHeldBy(p, process.pid))
  )
