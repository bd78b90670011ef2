/**
 * The pool manager's pid file. A pid counts as the manager only if that process is alive and its command line is a
 * `pool run` or `daemon run` (a reused pid of another program makes the file stale, not "already running").
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { StateError } from "../domain/errors.ts"
import { lockFile, processAlive } from "../state/lockFile.ts"

export const isManagerProcess = (pid: number) => {
  if (!processAlive(pid)) return false
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
    // `pool run`, or `daemon run` with ENABLE_POOL_MANAGER (its pool loop holds the same pid file)
    return cmd.includes("run") && (cmd.includes("pool") || cmd.includes("daemon"))
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
  lockFile(file, "", (h) => new StateError({ path: file, operation: "take", detail: `a pool manager already runs (pid ${h.pid})` }), isManagerProcess)
