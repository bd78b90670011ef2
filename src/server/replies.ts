/**
 * Whole answers of the served read-only command `daemon status`, reused while nothing they show could have changed:
 * no engine event since (the warm state's generation), and every check the command registered while computing it
 * (WarmState.ts: the parent's process still alive, ChromaDB's heartbeat still within its age, the uptime still the
 * same second, the kept settings and the pool's claims unchanged). A status asked many times a second is then one
 * computation a second, and each answer costs a lookup and these checks. Pure bookkeeping; server.ts runs the command.
 */
import { variableNames } from "../config/variables.ts"
import type { Answer, Request } from "./protocol.ts"
import type { Dependencies } from "./WarmState.ts"

/** At most this many different requests (argv, environment, directory) are kept; the oldest goes first. */
const MAX_KEPT = 16

interface Kept {
  readonly answer: Answer
  readonly generation: number
  readonly checks: ReadonlyArray<() => boolean>
}

/** Whether a request's answer may be kept (pure): a status, not logging at debug level (those lines describe calls). */
export const keepsAnswer = (r: Request): boolean =>
  r.argv[2] === "daemon" && r.argv[3] === "status" && !r.argv.includes("--") && (r.env.HAL9000_LOG_LEVEL ?? "") !== "debug"

/**
 * The variables a status can depend on: every setting's, the families claudy reads (its own, the engine's, ChromaDB's)
 * and the few others it looks at. Others (a shell's `_` or SHLVL, hyperfine's per-run offset) do not make another
 * answer, and keyed on the whole environment they made every request a new one.
 */
const SETTINGS = new Set(variableNames())
const READ = new Set(["HOME", "PATH", "NO_COLOR", "TERM", "ANTHROPIC_API_KEY", "CLAUDE_CONFIG_DIR", "NOTIFY_SOCKET"])
const FAMILIES = /^(HAL9000_|CLAUDY_|CHROMADB_|DOCKER_|WORKER_)/
export const statusEnv = (env: Readonly<Record<string, string>>): Array<[string, string]> =>
  Object.entries(env)
    .filter(([k]) => SETTINGS.has(k) || READ.has(k) || FAMILIES.test(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

const keyOf = (r: Request) => JSON.stringify([r.argv, statusEnv(r.env), r.cwd])

export const makeReplies = (generation: () => number) => {
  const kept = new Map<string, Kept>()
  return {
    /** The kept answer for `r`, if it still holds. */
    reuse: (r: Request): Answer | undefined => {
      const key = keyOf(r)
      const k = kept.get(key)
      if (k === undefined) return undefined
      if (k.generation === generation() && k.checks.every((check) => check())) return k.answer
      kept.delete(key)
      return undefined
    },
    /** Dependencies to collect while computing `r`'s answer, and how to keep the answer once computed. */
    begin: (r: Request) => {
      const deps: Dependencies = { reusable: true, checks: [] }
      const started = generation()
      return {
        deps,
        keep: (answer: Answer) => {
          if (!deps.reusable || generation() !== started) return
          const key = keyOf(r)
          kept.delete(key)
          if (kept.size >= MAX_KEPT) kept.delete(kept.keys().next().value!)
          kept.set(key, { answer, generation: started, checks: deps.checks })
        }
      }
    }
  }
}
