/**
 * The pool manager's pid file. A pid counts as the manager only if that process is alive and its command line is a
 * `pool run` or `daemon run` (a reused pid of another program makes the file stale, not "already running").
 * The holder's command line tells which of the two it is: the pool loop of `daemon run` (the supervisor systemd runs) is
 * never signalled by `pool stop` or `reset`, which would end the whole supervisor.
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { StateError } from "../domain/errors.ts"
import { lockFile, processAlive, readLock, removeIfHeldBy } from "../state/lockFile.ts"
import { pollUntil } from "./pollUntil.ts"

const commandLine = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
  } catch {
    return undefined // no /proc (not Linux)
  }
}

export const isManagerProcess = (pid: number) => {
  if (!processAlive(pid)) return false
  const cmd = commandLine(pid)
  // `pool run`, or `daemon run` with ENABLE_POOL_MANAGER (its pool loop holds the same pid file); no /proc: trust kill(0)
  return cmd === undefined || (cmd.includes("run") && (cmd.includes("pool") || cmd.includes("daemon")))
}

/** Which process runs the pool loop: the detached manager, or the supervisor's own loop. */
export type ManagerKind = "pool run" | "daemon run"

/** Told by the holder's command line, so the pid file stays a plain pid that scripts and units can read. */
const kindOf = (pid: number): ManagerKind => (commandLine(pid)?.includes("daemon") ? "daemon run" : "pool run")

/** The running manager's pid and kind, or undefined (a stale file is reported as such). */
export const runningManager = (file: string) =>
  Effect.sync(() => {
    const pid = readLock(file)?.pid
    const alive = pid !== undefined && isManagerProcess(pid)
    return { pid, alive, kind: alive ? kindOf(pid) : ("pool run" as ManagerKind) }
  })

/** Take the pid file for this process: fails if a live manager holds it; a stale one is replaced. */
export const acquirePidFile = (file: string) =>
  lockFile(
    file,
    "",
    (h) =>
      new StateError({
        path: file,
        operation: "take",
        detail: `a pool manager already runs (pid ${h.pid}${kindOf(h.pid) === "daemon run" ? ", the pool loop of claudy daemon run" : ""})`
      }),
    isManagerProcess
  )

/**
 * Signal the running manager and wait (polling its /proc entry, 15 s at most) until it is gone; its pid file goes
 * with it. `none`: no manager ran (a stale pid file is removed); `stuck`: it did not exit in time; `supervised`: the
 * loop is part of `daemon run`, which is left running (stopping it is the service manager's job).
 */
export const stopManager = (file: string, signal: "SIGTERM" | "SIGKILL") =>
  Effect.gen(function* () {
    const { pid, alive, kind } = yield* runningManager(file)
    if (!alive || pid === undefined) {
      if (pid !== undefined) removeIfHeldBy(file, pid)
      return { _tag: "none", stalePid: pid } as const
    }
    if (kind === "daemon run") return { _tag: "supervised", pid } as const
    process.kill(pid, signal)
    // Until the process is gone, not only its command line (which empties while it is still exiting).
    if (!(yield* pollUntil(() => !processAlive(pid), 15_000, 50))) return { _tag: "stuck", pid } as const
    removeIfHeldBy(file, pid) // a manager started meanwhile has written its own
    return { _tag: "stopped", pid } as const
  })
