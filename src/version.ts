/**
 * Version and commit: stamped by scripts/build with `--define`; when running from source (Deno, bun run) they are
 * read from package.json and git, so both report the same thing for the same checkout.
 */
import { execFileSync } from "node:child_process"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import pkg from "../package.json" with { type: "json" }

declare const CLAUDY_VERSION: string | undefined
declare const CLAUDY_COMMIT: string | undefined
declare const CLAUDY_BUILD: string | undefined

const commitFromGit = (): string => {
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], {
      cwd: dirname(fileURLToPath(import.meta.url)),
      stdio: ["ignore", "pipe", "ignore"]
    })
      .toString()
      .trim()
  } catch {
    return "unknown"
  }
}

export const VERSION: string = typeof CLAUDY_VERSION === "string" ? CLAUDY_VERSION : pkg.version
export const COMMIT: string = typeof CLAUDY_COMMIT === "string" ? CLAUDY_COMMIT : commitFromGit()
export const VERSION_LINE = `${VERSION} (commit ${COMMIT})`
/**
 * This build, for the control server's handshake (src/server/): version, commit and the build's own time, so a
 * server of another build of the same commit (a rebuild of a changed tree) is never used. From source: the version line.
 */
export const BUILD_ID: string = typeof CLAUDY_BUILD === "string" ? CLAUDY_BUILD : VERSION_LINE
