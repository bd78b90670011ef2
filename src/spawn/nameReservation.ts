/**
 * A session name is reserved for the duration of one spawn: `sessions/.<name>.spawning`, created with O_EXCL, so two
 * concurrent spawns of the same `--name` cannot both pass (the warm path never creates a container of that name,
 * so the engine's own 409 cannot catch it). A reservation of a process that is gone is stale and taken over.
 */
import { Effect } from "effect"
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { join } from "node:path"
import { SessionNameTaken, StateError } from "../domain/errors.ts"

const file = (home: string, name: string) => join(home, "sessions", `.${name}.spawning`)

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"))
  } catch {
    return false
  }
}

const reserve = (home: string, name: string) =>
  Effect.gen(function* () {
    const path = file(home, name)
    for (let attempt = 0; attempt < 2; attempt++) {
      const created = yield* Effect.try({
        try: () => {
          mkdirSync(join(home, "sessions"), { recursive: true, mode: 0o700 })
          const fd = openSync(path, "wx", 0o600)
          writeSync(fd, String(process.pid))
          closeSync(fd)
          return true
        },
        catch: (e) => e as NodeJS.ErrnoException
      }).pipe(
        Effect.catchAll((e) =>
          e.code === "EEXIST" ? Effect.succeed(false) : Effect.fail(new StateError({ path, operation: "reserve the session name in", detail: e.message }))
        )
      )
      if (created) return path
      const owner = Number(readFileSync(path, "utf8") || "0")
      if (owner > 0 && alive(owner)) {
        return yield* new SessionNameTaken({ name, container: `(being spawned by pid ${owner})`, project: "", state: "spawning" })
      }
      rmSync(path, { force: true })
    }
    return yield* new SessionNameTaken({ name, container: "(being spawned)", project: "", state: "spawning" })
  })

/** Reserve `name` for the enclosing scope; released when the scope closes (success, failure or interrupt). */
export const reserveName = (home: string, name: string) =>
  Effect.acquireRelease(reserve(home, name), (path) => Effect.sync(() => rmSync(path, { force: true })))
