/**
 * The pool manager's pid file. A pid counts as the manager only if that process is alive and its command line is a
 * `pool run` or `daemon run` (a reused pid of another program makes the file stale, not "already running").
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { StateError } from "../domain/errors.ts"
import { lockFile, processAlive, readLock, removeIfHeldBy } from "../state/lockFile.ts"
import { pollUntil } from "./pollUntil.ts"

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

export const readPid = (file: string) => Effect.sync(() => readLock(file)?.pid)

/** The running manager's pid, or undefined (a stale file is reported as such). */
export const runningManager = (file: string) =>
  Effect.map(readPid(file), (pid) => ({ pid, alive: pid !== undefined && isManagerProcess(pid) }))

/** Take the pid file for this process: fails if a live manager holds it; a stale one is replaced. */
export const acquirePidFile = (file: string) =>
  lockFile(file, "", (h) => new StateError({ path: file, operation: "take", detail: `a pool manager already runs (pid ${h.pid})` }), isManagerProcess)

/**
 * Signal the running manager and wait (polling its /proc entry, 15 s at most) until it is gone; its pid file goes
 * with it. `none`: no manager ran (a stale pid file is removed); `stuck`: it did not exit in time.
 */
export const stopManager = (file: string, signal: "SIGTERM" | "SIGKILL") =>
  Effect.gen(function* () {
    const { pid, alive } = yield* runningManager(file)
    if (!alive || pid === undefined) {
      if (pid !== undefined) removeIfHeldBy(file, pid)
      return { _tag: "none", stalePid: pid } as const
    }
    process.kill(pid, signal)
    // Until the process is gone, not only its command line (which empties while it is still exiting).
    if (!(yield* pollUntil(() => !processAlive(pid), 15_000, 50))) return { _tag: "stuck", pid } as const
    removeIfHeldBy(file, pid) // a manager started meanwhile has written its own
    return { _tag: "stopped", pid } as const
  })
