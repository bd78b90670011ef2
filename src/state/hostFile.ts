/**
 * Host file errors as StateErrors: the path, the system's cause (ENOSPC, EACCES, EROFS …) and a fix for that cause.
 * Every host file operation goes through `hostFile` (or maps its error with `fsError`), so a full or read-only disk is
 * reported as what it is, never as "a bug in claudy" (an exception thrown inside Effect.sync is a defect).
 */
import { Effect } from "effect"
import { closeSync, openSync, readdirSync, rmSync, writeSync } from "node:fs"
import { dirname } from "node:path"
import { StateError } from "../domain/errors.ts"

/** What to do about each system error, for the file at `path` (pure). */
export const fixFor = (code: string | undefined, path: string): string | undefined => {
  const dir = dirname(path)
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return `free space on the disk that holds ${dir} (df -h ${dir}), or use a directory on another disk (claudy config shows HAL9000_HOME)`
    case "EROFS":
      return `${dir} is on a read-only file system: remount it read-write, or use a directory on a writable disk (claudy config shows HAL9000_HOME)`
    case "EACCES":
    case "EPERM":
      return `let the user claudy runs as (uid ${process.getuid?.() ?? "?"}) write there (ls -ld ${dir}; chown or chmod), or run claudy as its owner`
    case "ENOENT":
      return `${dir} or a directory above it is missing: create it, or check the path`
    case "ENOTDIR":
    case "EEXIST":
    case "EISDIR":
      return `something else is in the way at ${path}: move it aside`
    case "EMFILE":
    case "ENFILE":
      return "too many open files: raise the limit (ulimit -n) or stop other processes"
    case "EIO":
      return `the disk that holds ${dir} reports I/O errors: check it (dmesg) before going on`
    case "ENAMETOOLONG":
    case "ELOOP":
      return `the path is too long or loops through symlinks: choose a shorter HAL9000_HOME`
    default:
      return undefined
  }
}

/**
 * Node's and Bun's "ENOSPC: no space left on device, write" as "no space left on device (ENOSPC)"; the file the
 * system call named is added when it is not `path` itself (a file inside the directory the operation is about).
 */
const causeOf = (e: unknown, path: string): { code?: string; detail: string } => {
  const err = e as NodeJS.ErrnoException
  const text = e instanceof Error ? e.message : String(e)
  if (typeof err?.code !== "string") return { detail: text }
  const plain = text.replace(new RegExp(`^${err.code}:\\s*`), "").replace(/,\s*\w+(\s+'.*')?$/, "")
  const where = typeof err.path === "string" && err.path !== path ? `, ${err.syscall ?? "on"} ${err.path}` : ""
  return { code: err.code, detail: `${plain || text} (${err.code}${where})` }
}

/** Map a thrown fs error to a StateError naming `path`, the cause and its fix. */
export const fsError = (path: string, operation: string) => (e: unknown): StateError => {
  const { code, detail } = causeOf(e, path)
  const fix = fixFor(code, path)
  return new StateError({ path, operation, detail, ...(code !== undefined ? { code } : {}), ...(fix !== undefined ? { fix } : {}) })
}

/** Run a synchronous host file operation on `path`; what it throws fails as a StateError (see `fsError`). */
export const hostFile = <A>(path: string, operation: string, run: () => A): Effect.Effect<A, StateError> =>
  Effect.try({ try: run, catch: fsError(path, operation) })

/** The code of a thrown fs error, if it has one. */
export const errnoOf = (e: unknown): string | undefined => {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  return typeof code === "string" ? code : undefined
}

/** The names in a directory; a missing directory is empty, any other failure (EACCES, EIO …) a StateError. */
export const listDir = (dir: string, operation: string): Effect.Effect<Array<string>, StateError> =>
  Effect.try({
    try: () => {
      try {
        return readdirSync(dir)
      } catch (e) {
        if (errnoOf(e) === "ENOENT") return []
        throw e
      }
    },
    catch: fsError(dir, operation)
  })

/** An exclusive create (O_EXCL open, link): true when it created `path`, false when the name was taken (EEXIST). */
export const createExclusive = (path: string, operation: string, run: () => void): Effect.Effect<boolean, StateError> =>
  Effect.try({ try: () => (run(), true), catch: (e) => e }).pipe(
    Effect.catchAll((e) => (errnoOf(e) === "EEXIST" ? Effect.succeed(false) : Effect.fail(fsError(path, operation)(e))))
  )

/**
 * Create `path` (0600, O_EXCL: it must not exist) holding `text`; throws like fs does. A write that fails (a full
 * disk) removes the file again, so no empty or partial file is left for a reader to trip on.
 */
export const writeNewFileSync = (path: string, text: string) => {
  const fd = openSync(path, "wx", 0o600)
  try {
    writeSync(fd, text)
  } catch (e) {
    rmSync(path, { force: true })
    throw e
  } finally {
    closeSync(fd)
  }
}
