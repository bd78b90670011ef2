/**
 * The control socket's protocol (pure; shared by the thin client, which loads before Effect, and the server).
 *
 * One request per connection, one JSON line: the client's build, argv, environment and working directory. The server
 * answers with JSON lines: `declined` (another build, another HOME, not a served command: the client runs the command
 * itself), `error` (a malformed request), or `accepted` followed by `result` (stdout, stderr, exit code). Once a
 * command is accepted the client never runs it itself: a broken connection is reported, not retried.
 * The result keeps its colour as the client's environment allows (NO_COLOR, TERM); whether its stdout and stderr are
 * terminals is the client's to look at, only when an answer has colour (client.ts: looking costs its start ≈ 2 ms).
 */
import { isSpawnForm } from "../cli/argvShape.ts"
import { defaultHome, spelledOutHome } from "../config/homePath.ts"

export const PROTOCOL_VERSION = 2

/** A request larger than this is refused (an environment is a few KiB; this bounds what one client can make us hold). */
export const MAX_REQUEST_BYTES = 1024 * 1024

export interface Request {
  readonly v: number
  readonly build: string
  readonly argv: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly cwd: string
}

export type Answer =
  | { readonly t: "accepted" }
  | { readonly t: "declined"; readonly reason: string }
  | { readonly t: "error"; readonly message: string }
  | { readonly t: "result"; readonly stdout: string; readonly stderr: string; readonly code: number }

/**
 * The socket of the server for this HAL9000_HOME, spelled out from `env` as Settings does (not normalized: the kernel
 * resolves the path, node:path would cost the client's start); undefined if Settings would refuse it.
 */
export const controlSocketPath = (env: Readonly<Record<string, string | undefined>>, userHome: string): string | undefined => {
  const raw = env.HAL9000_HOME
  const home = raw === undefined ? defaultHome(userHome) : spelledOutHome(raw, userHome)
  return home === undefined ? undefined : `${home.replace(/\/+$/, "")}/run/control.sock`
}

const HELP_LIKE = new Set(["-h", "--help", "--wizard", "--completions", "--version"])

/**
 * Whether the server may run this argv: `daemon status`, `sessions list|inspect`, `pool status` and detached spawns.
 * Everything else (interactive spawns, which need this terminal; long-running and mutating commands; help) runs in
 * the client's own process. Words after `--` are the session's command, not claudy's options.
 */
export const isServed = (argv: ReadonlyArray<string>): boolean => {
  const end = argv.indexOf("--")
  const own = (end < 0 ? argv : argv.slice(0, end)).slice(2)
  if (own.some((a) => HELP_LIKE.has(a))) return false
  const [group, command] = own
  if (isSpawnForm(argv) || group === "spawn") return own.includes("-d") || own.includes("--detach")
  return (
    (group === "daemon" && command === "status") ||
    (group === "sessions" && (command === "list" || command === "inspect")) ||
    (group === "pool" && command === "status")
  )
}

/** The environment as it travels: only set variables (JSON has no undefined). */
export const requestEnv = (env: Readonly<Record<string, string | undefined>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v
  return out
}

const isStringRecord = (v: unknown): v is Record<string, string> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string")

/** Parse one request line; a description of what is wrong otherwise. */
export const parseRequest = (line: string): { readonly ok: true; readonly request: Request } | { readonly ok: false; readonly error: string } => {
  let v: unknown
  try {
    v = JSON.parse(line)
  } catch {
    return { ok: false, error: "the request is not JSON" }
  }
  if (typeof v !== "object" || v === null) return { ok: false, error: "the request is not a JSON object" }
  const r = v as Record<string, unknown>
  if (r.v !== PROTOCOL_VERSION) return { ok: false, error: `unknown protocol version ${JSON.stringify(r.v)} (this server speaks ${PROTOCOL_VERSION})` }
  if (typeof r.build !== "string") return { ok: false, error: "build must be a string" }
  if (!Array.isArray(r.argv) || r.argv.length < 2 || !r.argv.every((a) => typeof a === "string")) {
    return { ok: false, error: "argv must be an array of at least two strings" }
  }
  if (!isStringRecord(r.env)) return { ok: false, error: "env must be an object of strings" }
  if (typeof r.cwd !== "string" || !r.cwd.startsWith("/")) return { ok: false, error: "cwd must be an absolute path" }
  return { ok: true, request: { v: PROTOCOL_VERSION, build: r.build, argv: r.argv as Array<string>, env: r.env, cwd: r.cwd } }
}

/**
 * Why this server does not run `r` (the client then runs it itself), or undefined. Another build is another program;
 * another HOME would resolve `~` and HAL9000_HOME's default differently from the client's own process.
 */
export const declineReason = (r: Request, self: { readonly build: string; readonly home: string | undefined }): string | undefined =>
  r.build !== self.build
    ? `another build (server ${self.build}, client ${r.build})`
    : (r.env.HOME ?? "") !== (self.home ?? "")
      ? "another HOME"
      : !isServed(r.argv)
        ? "not a served command"
        : undefined
