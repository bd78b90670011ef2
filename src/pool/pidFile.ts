/**
 * The pool manager's pid file. A pid counts as the manager only if that process is alive and its command line is a
 * `pool run` or `daemon run` (a reused pid of another program makes the file stale, not "already running").
 */
import { Effect } from "effect"
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { dirname } from "node:path"
import { StateError } from "../domain/errors.ts"

export const isManagerProcess = (pid: number) => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
    const state = /^State:\s+(\w)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
    // `pool run`, or `daemon run` with ENABLE_POOL_MANAGER (its pool loop holds the same pid file)
    return state !== "Z" && cmd.includes("run") && (cmd.includes("pool") || cmd.includes("daemon"))
  } catch {
    return true // no /proc (not Linux): trust kill(0)
  }
}

export const readPid = (file: string) =>
  Effect.sync(() => {
    try {
      const pid = Number(readFileSync(file, "utf8").trim())
      return Number.isInteger(pid) && pid > 0 ? pid : undefined
    } catch {
      return undefined
    }
  })

/** The running manager's pid, or undefined (a stale file is reported as such). */
export const runningManager = (file: string) =>
  Effect.map(readPid(file), (pid) => ({ pid, alive: pid !== undefined && isManagerProcess(pid) }))

/** Take the pid file for this process: fails if a live manager holds it; a stale one is replaced. */
export const acquirePidFile = (file: string) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      for (let attempt = 0; attempt < 2; attempt++) {
        const taken = yield* Effect.try({
          try: () => {
            mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
            const fd = openSync(file, "wx", 0o600)
            writeSync(fd, `${process.pid}\n`)
            closeSync(fd)
            return true
          },
          catch: (e) => e
        }).pipe(Effect.orElseSucceed(() => false))
        if (taken) return
        const { pid, alive } = yield* runningManager(file)
        if (alive && pid !== process.pid) {
          return yield* new StateError({ path: file, operation: "take", detail: `a pool manager already runs (pid ${pid})` })
        }
        rmSync(file, { force: true })
      }
      return yield* new StateError({ path: file, operation: "take", detail: "another process keeps replacing it" })
    }),
    () =>
      Effect.sync(() => {
        // remove only our own pid file
        try {
          if (readFileSync(file, "utf8").trim() === String(process.pid)) rmSync(file, { force: true })
        } catch {
          // already gone
        }
      })
  )
