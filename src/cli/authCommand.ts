/** `claudy login` and `claudy auth status`: log in once, and see which credentials sessions use. */
import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { chownSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { randomBytes } from "node:crypto"
import { authStatus } from "../auth/authStatus.ts"
import { Settings } from "../config/Settings.ts"
import { SilentExit, UsageError } from "../domain/errors.ts"
import { Engine } from "../docker/Engine.ts"
import { Sessions } from "../sessions/Sessions.ts"
import { Spawner } from "../spawn/Spawner.ts"
import { IMAGE_USER } from "../spawn/workerSpec.ts"
import { jsonOption, printJson, setOption, table } from "./common.ts"
import { withSet } from "./services.ts"

const SOURCE_TEXT = {
  env: "ANTHROPIC_API_KEY from claudy's environment",
  file: "the API key file",
  login: "the login kept in the Claude home",
  none: "none: Claude Code will ask to log in (claudy login)"
} as const

const status = Command.make("status", { json: jsonOption, set: setOption }, ({ json, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const { settings } = yield* Settings
      const s = yield* authStatus(yield* Engine, settings)
      if (json) return yield* printJson(s)
      const login =
        s.login.persisted === null
          ? `unknown: ${s.login.detail ?? ""}`
          : s.login.persisted
            ? `yes${s.login.method ? ` (${s.login.method}${s.login.subscription ? `, ${s.login.subscription}` : ""})` : ""}`
            : `no${s.login.detail ? `: ${s.login.detail}` : ""}`
      yield* Console.log(
        table([
          ["Sessions use:", SOURCE_TEXT[s.source]],
          ["API key file:", `${s.api_key_file}${s.source === "file" ? " (in use)" : ""}`],
          ["Login kept:", `${login}; volume ${s.claude_home}`]
        ])
      )
    })
  )
).pipe(Command.withDescription("Say which credentials new sessions use (environment key, key file, or the kept login); never prints a secret"))

export const authCommand = Command.make("auth").pipe(
  Command.withDescription("Authentication of Claude Code in the workers (order: ANTHROPIC_API_KEY, HAL9000_HOME/secrets/anthropic_key, the kept login)"),
  Command.withSubcommands([status])
)

/** An empty project for the login session, owned like a user's project (a root-owned one would warn). */
const loginWorkspace = () => {
  const dir = mkdtempSync(join(tmpdir(), "claudy-login-"))
  if (typeof process.getuid === "function" && process.getuid() === 0) chownSync(dir, IMAGE_USER.uid, IMAGE_USER.gid)
  return dir
}

export const loginCommand = Command.make(
  "login",
  {
    console: Options.boolean("console").pipe(Options.withDescription("Log in with an Anthropic Console account (API billing) instead of a Claude subscription")),
    set: setOption
  },
  ({ console, set }) =>
    withSet(
      set,
      Effect.gen(function* () {
        if (process.stdin.isTTY !== true) {
          return yield* new UsageError({
            detail: "claudy login runs Claude Code's own login, which needs a terminal",
            fix: "run it in a terminal (ssh -t host claudy login), or put an API key in HAL9000_HOME/secrets/anthropic_key (mode 0400)"
          })
        }
        const spawner = yield* Spawner
        const sessions = yield* Sessions
        const name = `login-${randomBytes(4).toString("hex")}`
        // A closed terminal (SIGHUP) ends the login like Ctrl-C would: as an interrupt, so its worker is removed.
        const hangup = () => process.kill(process.pid, "SIGTERM")
        yield* Effect.acquireRelease(Effect.sync(() => process.once("SIGHUP", hangup)), () => Effect.sync(() => process.off("SIGHUP", hangup)))
        const dir = yield* Effect.acquireRelease(Effect.sync(loginWorkspace), (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true })))
        yield* Console.error(`Logging in with Claude Code in a worker; the login is kept in the Claude home for every later session.`)
        const r = yield* spawner
          .spawn({
            path: dir,
            cwd: process.cwd(),
            name,
            viaParent: false,
            detach: false,
            image: undefined,
            env: [],
            command: ["claude", "auth", "login", ...(console ? ["--console"] : [])],
            limits: { noLimits: false },
            withoutApiKey: true
          })
          .pipe(Effect.ensuring(sessions.remove(name, true).pipe(Effect.ignore)))
        if (r._tag === "exited" && r.code === 0) return yield* Console.log("Logged in. Check with: claudy auth status")
        if (r._tag === "exited") return yield* new SilentExit({ code: r.code })
      }).pipe(Effect.scoped)
    )
).pipe(Command.withDescription("Log in to Claude Code once (its own login, in a worker): every later session uses the kept login"))
