/**
 * A session name is reserved for the duration of one spawn: `sessions/.<name>.spawning`, a lock file, so two
 * concurrent spawns of the same `--name` cannot both pass (the warm path never creates a container of that name,
 * so the engine's own 409 cannot catch it). A reservation of a process that is gone is stale and taken over.
 */
import { join } from "node:path"
import { SessionNameTaken } from "../domain/errors.ts"
import { lockFile } from "../state/lockFile.ts"

/** Reserve `name` for the enclosing scope; released when the scope closes (success, failure or interrupt). */
export const reserveName = (home: string, name: string) =>
  lockFile(
    join(home, "sessions", `.${name}.spawning`),
    "",
    (h) => new SessionNameTaken({ name, container: `(being spawned by pid ${h.pid})`, project: "", state: "spawning" })
  )
