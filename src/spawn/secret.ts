/**
 * ANTHROPIC_API_KEY reaches a worker as a file, never as an environment variable (which `docker inspect` shows):
 * HAL9000_HOME/secrets/<session>/anthropic_api_key, bind-mounted read-only. As root the file is given to the worker
 * user with mode 0400; otherwise it is 0444 inside a 0700 directory that no other host user can enter.
 */
import { Effect } from "effect"
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { StateError } from "../domain/errors.ts"
import { secretDir } from "../sessions/SessionStore.ts"

export const writeApiKeyFile = (home: string, session: string, key: string, user: { readonly uid: number; readonly gid: number }) =>
  Effect.try({
    try: () => {
      const dir = secretDir(home, session)
      mkdirSync(join(home, "secrets"), { recursive: true, mode: 0o700 })
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      chmodSync(dir, 0o700)
      const file = join(dir, "anthropic_api_key")
      writeFileSync(file, key, { mode: 0o600 })
      const root = typeof process.getuid === "function" && process.getuid() === 0
      if (root) {
        chownSync(file, user.uid, user.gid)
        chmodSync(file, 0o400)
      } else {
        chmodSync(file, 0o444)
      }
      return file
    },
    catch: (e) =>
      new StateError({ path: secretDir(home, session), operation: "write the API key file in", detail: e instanceof Error ? e.message : String(e) })
  })
