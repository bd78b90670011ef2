/**
 * The project directory a worker gets at /workspace. It is resolved on the host (realpath), and directories whose
 * mount would hand the worker the host itself are refused, including when reached through a symlink.
 */
import { Effect } from "effect"
import { realpathSync, statSync } from "node:fs"
import { resolve } from "node:path"
import { UsageError } from "../domain/errors.ts"

const SYSTEM_DIRS = ["/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/root", "/run", "/sbin", "/sys", "/tmp", "/home", "/usr", "/var", "/var/run", "/var/lib", "/var/lib/docker"]

/** Why a resolved directory may not be a worker's workspace, if it may not (pure). */
export const refusedReason = (resolved: string, ctx: { readonly userHome: string; readonly halHome: string }) => {
  const norm = resolved.replace(/\/+$/, "") || "/"
  if (SYSTEM_DIRS.includes(norm)) return `${norm} is a system directory`
  if (norm === ctx.userHome.replace(/\/+$/, "")) return `${norm} is your home directory (it holds ~/.ssh and other credentials)`
  const hal = ctx.halHome.replace(/\/+$/, "")
  if (norm === hal || norm.startsWith(`${hal}/`) || hal.startsWith(`${norm}/`)) return `${norm} contains or is inside HAL9000_HOME (${hal}), which holds claudy's state and secrets`
  if (norm.startsWith("/proc/") || norm.startsWith("/sys/") || norm.startsWith("/dev/")) return `${norm} is a kernel file system`
  return undefined
}

export const resolveProject = (raw: string, cwd: string, ctx: { readonly userHome: string; readonly halHome: string }) =>
  Effect.gen(function* () {
    const fix = "pass an existing project directory: claudy --via-parent /path/to/project"
    const given = resolve(cwd, raw)
    let real: string
    try {
      real = realpathSync(given)
    } catch {
      return yield* new UsageError({ detail: `project directory ${raw} does not exist`, fix })
    }
    if (!statSync(real).isDirectory()) return yield* new UsageError({ detail: `project path ${raw} is not a directory`, fix })
    const why = refusedReason(real, ctx)
    if (why !== undefined) {
      const via = real !== given ? ` (${raw} resolves to ${real})` : ""
      return yield* new UsageError({
        detail: `refusing to mount ${real} into a worker${via}: ${why}`,
        fix: "pass the project's own directory, e.g. ~/src/app"
      })
    }
    const st = statSync(real)
    return { dir: real, owner: { uid: st.uid, gid: st.gid } }
  })
