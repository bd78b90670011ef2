/**
 * A maintenance lock (HAL9000_HOME/maintenance) held while backup, restore or reset stop the parent on purpose, so
 * `daemon run`'s watchdog does not "repair" it in the middle of their work.
 */
import { join } from "node:path"
import { StateError } from "../domain/errors.ts"
import { lockFile, lockHolder } from "../state/lockFile.ts"

export const maintenanceFile = (home: string) => join(home, "maintenance")

/** The pid and purpose of a live maintenance, if any (a lock of a process that is gone does not count). */
export const activeMaintenance = (home: string) => lockHolder(maintenanceFile(home))

/** Hold the maintenance lock for the enclosing scope. */
export const maintenance = (home: string, what: string) =>
  lockFile(
    maintenanceFile(home),
    what,
    (h) =>
      new StateError({
        path: maintenanceFile(home),
        operation: `start ${what}: it is held`,
        detail: `${h.note} (pid ${h.pid}) is running`,
        fix: `wait until ${h.note} (pid ${h.pid}) has finished, then run it again`
      })
  )
