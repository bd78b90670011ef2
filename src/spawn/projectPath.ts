/**
 * The project directory a worker gets at /workspace. It is resolved on the host (realpath), and directories whose
 * mount would hand the worker the host itself or the user's credentials are refused, including when reached through
 * a symlink, and whether the project is such a directory, lies inside one, or contains one.
 */
import { Effect } from "effect"
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs"
import { join, resolve } from "node:path"
import { UsageError } from "../domain/errors.ts"
import { hostFile } from "../state/hostFile.ts"

/** Refused as a project only by their exact path: their children (/home/me/src, /srv/x, /tmp/work) are projects. */
const SYSTEM_DIRS = ["/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/root", "/run", "/sbin", "/sys", "/tmp", "/home", "/usr", "/var", "/var/run", "/var/lib", "/var/lib/docker"]

/**
 * Refused with everything under them: the host's configuration and secrets (/etc), the engine's and runtimes' state
 * (a worker with /var/lib/docker owns every container), the engine's socket (/run, /var/run) and the kernel's views.
 */
const SYSTEM_TREES = ["/etc", "/var/lib/docker", "/var/lib/containerd", "/var/lib/containers", "/run", "/var/run", "/proc", "/sys", "/dev", "/boot"]

/**
 * Credential stores, relative to a home: refused with everything under them, and any directory that contains one
 * (~/.config holds ~/.config/gcloud), for the caller's home and every other user's; a directory of one of these names
 * is refused wherever it is (a copied ~/.ssh). Listed in docs/SECURITY.md.
 */
export const CREDENTIAL_PATHS = [
  ".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker", ".config/gcloud", ".config/gh", ".config/hub",
  ".config/containers", ".config/op", ".password-store", ".local/share/keyrings", ".terraform.d", ".oci",
  ".netrc", ".git-credentials", ".npmrc", ".pypirc", ".vault-token"
]

export interface GuardContext {
  readonly userHome: string
  readonly halHome: string
  /** the homes of the host's other users (root and uid ≥ 1000): under sudo, HOME is root's, not the user's */
  readonly otherHomes?: ReadonlyArray<string>
  /** where the homes' credential paths really are, when some are symlinks (resolveProject fills it) */
  readonly resolvedCredentials?: ReadonlyArray<string>
}

const trim = (p: string) => p.replace(/\/+$/, "") || "/"
const within = (p: string, dir: string) => p === dir || p.startsWith(dir === "/" ? "/" : `${dir}/`)

/** Why a resolved directory may not be a worker's workspace, if it may not (pure). */
export const refusedReason = (resolved: string, ctx: GuardContext) => {
  const norm = trim(resolved)
  if (SYSTEM_DIRS.includes(norm)) return `${norm} is a system directory`
  const tree = SYSTEM_TREES.find((d) => within(norm, d))
  if (tree !== undefined) return `${norm} is inside ${tree}, a system directory`
  const home = trim(ctx.userHome)
  if (norm === home) return `${norm} is your home directory (it holds ~/.ssh and other credentials)`
  const others = (ctx.otherHomes ?? []).map(trim).filter((h) => h !== "/")
  if (others.includes(norm)) return `${norm} is a user's home directory (it holds ~/.ssh and other credentials)`
  const hal = trim(ctx.halHome)
  if (within(norm, hal) || within(hal, norm)) return `${norm} contains or is inside HAL9000_HOME (${hal}), which holds claudy's state and secrets`
  const credentials = [
    ...[home, ...others].flatMap((h) => CREDENTIAL_PATHS.map((c) => join(h, c))),
    ...(ctx.resolvedCredentials ?? []).map(trim)
  ]
  const inside = credentials.find((c) => within(norm, c))
  if (inside !== undefined) return `${norm} is inside ${inside}, which holds credentials`
  const holds = credentials.find((c) => within(c, norm))
  if (holds !== undefined) return `${norm} contains ${holds}, which holds credentials`
  const named = CREDENTIAL_PATHS.find((c) => norm.endsWith(`/${c}`) || norm.includes(`/${c}/`))
  if (named !== undefined) return `${norm} is inside a directory named ${named}, a credential store`
  return undefined
}

/** The homes of root and of the host's people (uid ≥ 1000, not nobody), from /etc/passwd; none if unreadable. */
const humanHomes = (): Array<string> => {
  try {
    return readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .map((line) => line.split(":"))
      .filter((f) => f.length >= 7 && (f[2] === "0" || (Number(f[2]) >= 1000 && Number(f[2]) !== 65534)))
      .map((f) => f[5]!)
      .filter((h) => h.startsWith("/") && h !== "/")
  } catch {
    return []
  }
}

const realpathOf = (p: string) => {
  try {
    return realpathSync(p)
  } catch {
    return undefined
  }
}

export const resolveProject = (raw: string, cwd: string, ctx: { readonly userHome: string; readonly halHome: string }) =>
  Effect.gen(function* () {
    const fix = "pass an existing project directory: claudy --via-parent /path/to/project"
    const given = resolve(cwd, raw)
    const real = realpathOf(given)
    if (real === undefined) return yield* new UsageError({ detail: `project directory ${raw} does not exist`, fix })
    const st = yield* hostFile(real, "read", () => statSync(real))
    if (!st.isDirectory()) return yield* new UsageError({ detail: `project path ${raw} is not a directory`, fix })
    // The guarded places are compared by their real paths too: a symlinked ~/.ssh or HAL9000_HOME is still guarded.
    const otherHomes = humanHomes()
    const why = refusedReason(real, {
      userHome: realpathOf(ctx.userHome) ?? ctx.userHome,
      halHome: realpathOf(ctx.halHome) ?? ctx.halHome,
      otherHomes: otherHomes.map((h) => realpathOf(h) ?? h),
      // (existsSync first: most stores are absent, and a failed realpath throws, ten times the cost of a stat)
      resolvedCredentials: [ctx.userHome, ...otherHomes].flatMap((h) =>
        CREDENTIAL_PATHS.flatMap((c) => (existsSync(join(h, c)) ? (realpathOf(join(h, c)) ?? []) : []))
      )
    })
    if (why !== undefined) {
      const via = real !== given ? ` (${raw} resolves to ${real})` : ""
      return yield* new UsageError({
        detail: `refusing to mount ${real} into a worker${via}: ${why}`,
        fix: "pass the project's own directory, e.g. ~/src/app"
      })
    }
    return { dir: real, owner: { uid: st.uid, gid: st.gid } }
  })
