/**
 * A maintenance lock (HAL9000_HOME/maintenance, O_EXCL with the owner's pid) held while backup, restore or reset
 * stop the parent on purpose, so `daemon run`'s watchdog does not "repair" it in the middle of their work.
 */
import { Effect } from "effect"
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { join } from "node:path"
import { StateError } from "../domain/errors.ts"

export const maintenanceFile = (home: string) => join(home, "maintenance")

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"))
  } catch {
    return false
  }
}

/** The pid and purpose of a live maintenance, if any (a lock of a process that is gone does not count). */
export const activeMaintenance = (home: string) =>
  Effect.sync(() => {
    try {
      const [pid, ...what] = readFileSync(maintenanceFile(home), "utf8").trim().split(" ")
      return alive(Number(pid)) ? { pid: Number(pid), what: what.join(" ") } : undefined
    } catch {
      return undefined
    }
  })

const take = (home: string, what: string) =>
  Effect.gen(function* () {
    const path = maintenanceFile(home)
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, "wx", 0o600)
        writeSync(fd, `${process.pid} ${what}`)
        closeSync(fd)
        return path
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
          return yield* new StateError({ path, operation: "create", detail: (e as Error).message })
        }
        const other = yield* activeMaintenance(home)
        if (other) return yield* new StateError({ path, operation: `start ${what}: another maintenance holds`, detail: `${other.what} (pid ${other.pid}) is running` })
        rmSync(path, { force: true })
      }
    }
    return yield* new StateError({ path, operation: "take", detail: "another process keeps taking it" })
  })

/** Hold the maintenance lock for the enclosing scope. */
export const maintenance = (home: string, what: string) =>
  Effect.acquireRelease(take(home, what), (path) => Effect.sync(() => rmSync(path, { force: true })))
