/** The checkout's commit, for a claudy run from source (the build stamps it): loaded only then (version.ts). */
import { execFileSync } from "node:child_process"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"

export const commitFromGit = (): string => {
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
