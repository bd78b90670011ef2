import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Either, Option } from "effect"
import { ConfigInvalid, SilentExit, UsageError } from "../domain/errors.ts"
import { LABEL } from "../domain/labels.ts"
import { Engine } from "../docker/Engine.ts"
import type { SessionRecord } from "../sessions/record.ts"
import { followLogs } from "../sessions/followLogs.ts"
import { shellInSession } from "../sessions/shell.ts"
import { parseSince, SINCE_FORM } from "../sessions/since.ts"
import { type SessionView, Sessions } from "../sessions/Sessions.ts"
import { attachSession } from "../spawn/attach.ts"
import { followOption, jsonOption, printJson, setOption, table } from "./common.ts"
import { withSet } from "./services.ts"

const nameArg = Args.text({ name: "NAME" }).pipe(Args.withDescription("Session name (see: claudy sessions list)"))

const limitsText = (r: SessionRecord) =>
  r.resource_limits.enabled
    ? `mem ${r.resource_limits.memory} cpus ${r.resource_limits.cpus} pids ${r.resource_limits.pids_limit}`
    : "no limits"

const hintFor = (r: SessionRecord) =>
  r.status === "oom-killed"
    ? `killed by its memory limit (${r.resource_limits.memory}): respawn with more, e.g. claudy --via-parent --memory 8g ${r.project_dir}`
    : r.status === "pids-limit-reached"
      ? `its processes hit the pids limit (${r.resource_limits.pids_limit}): respawn with more, e.g. claudy --via-parent --pids-limit 200 ${r.project_dir}`
      : r.status === "gone"
        ? `its container no longer exists: remove the record with claudy sessions rm ${r.name}`
        : undefined

const view = (v: SessionView) => ({ ...v.record, running: v.running, rebuilt: v.rebuilt, hint: hintFor(v.record) ?? null })

const list = Command.make("list", { json: jsonOption, set: setOption }, ({ json, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const { sessions, skipped } = yield* (yield* Sessions).list
      for (const s of skipped) yield* Effect.logWarning(`skipped ${s.file}: ${s.reason}`)
      for (const v of sessions.filter((x) => x.rebuilt)) yield* Effect.logInfo(`rebuilt the record of ${v.record.name} from its container's labels`)
      if (json) return yield* printJson(sessions.map(view))
      if (sessions.length === 0) return yield* Console.log("No sessions. Spawn one with: claudy --via-parent /path/to/project")
      yield* Console.log(
        table([
          ["NAME", "STATUS", "PROJECT", "NETWORK", "LIMITS", "CREATED"],
          ...sessions.map(({ record: r }) => [
            r.name,
            r.status === "exited" && r.exit_code !== null ? `exited (${r.exit_code})` : r.status,
            r.project_dir,
            r.network_mode,
            limitsText(r),
            r.created_at
          ])
        ])
      )
    })
  )
).pipe(Command.withDescription("List sessions (containers and records reconciled by label)"))

const inspect = Command.make("inspect", { name: nameArg, json: jsonOption, set: setOption }, ({ name, json, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const v = yield* (yield* Sessions).get(name)
      if (json) return yield* printJson(view(v))
      const r = v.record
      yield* Console.log(
        table([
          ["Name:", r.name],
          ["Status:", r.status === "exited" && r.exit_code !== null ? `exited (${r.exit_code})` : r.status],
          ["Container:", `${r.container_name} (${r.container_id.slice(0, 12)})`],
          ["Image:", r.profile ? `${r.image} (profile ${r.profile})` : r.image],
          ["Project:", r.project_dir],
          ["Network:", r.network_mode],
          ["Parent:", r.parent ?? "(none)"],
          ["Limits:", limitsText(r)],
          ["Created:", r.created_at]
        ])
      )
      const hint = hintFor(r)
      if (hint) yield* Console.log(`Hint: ${hint}`)
    })
  )
).pipe(Command.withDescription("Show one session"))

const attach = Command.make("attach", { name: nameArg, set: setOption }, ({ name, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const c = yield* (yield* Sessions).requireContainer(name)
      if (!c.State.Running) {
        return yield* Console.error(`Session ${name} is not running (${c.State.Status}); see: claudy sessions logs ${name}`).pipe(
          Effect.zipRight(Effect.fail(new SilentExit({ code: 1 })))
        )
      }
      const r = yield* attachSession((yield* Engine).address, name, c.Id, { tty: c.Config.Tty ?? false })
      if (r._tag === "exited" && r.code !== 0) return yield* new SilentExit({ code: r.code })
    })
  )
).pipe(Command.withDescription("Attach your terminal to a running session (detach: ctrl-p ctrl-q)"))

const logs = Command.make(
  "logs",
  {
    name: nameArg,
    follow: followOption,
    tail: Options.integer("tail").pipe(Options.withPseudoName("N"), Options.withDefault(200), Options.withDescription("Lines from the end")),
    since: Options.text("since").pipe(
      Options.withPseudoName("WHEN"),
      Options.withDescription(`Only output since then: ${SINCE_FORM}`),
      Options.optional
    ),
    timestamps: Options.boolean("timestamps").pipe(Options.withAlias("t"), Options.withDescription("Prefix each line with its time (RFC 3339)")),
    set: setOption
  },
  ({ name, follow, tail, since, timestamps, set }) =>
    withSet(
      set,
      Effect.gen(function* () {
        const sinceSeconds = Option.isSome(since)
          ? yield* Either.match(parseSince(since.value, Date.now()), {
              onLeft: (expected) => Effect.fail(new ConfigInvalid({ variable: "--since", value: since.value, expected, source: "flag" })),
              onRight: (s) => Effect.succeed(s)
            })
          : undefined
        const window = { ...(sinceSeconds !== undefined ? { since: sinceSeconds } : {}), ...(timestamps ? { timestamps } : {}) }
        const c = yield* (yield* Sessions).requireContainer(name)
        const engine = yield* Engine
        if (follow) return yield* followLogs(engine.address, name, c.Id, c.Config.Tty ?? false, tail, window)
        const text = yield* engine.containerLogs(c.Id, tail, window)
        if (text !== "") yield* Effect.sync(() => process.stdout.write(text))
      })
    )
).pipe(Command.withDescription("Print a session's output (-f follows, --since and --timestamps as in docker logs)"))

const stop = Command.make(
  "stop",
  {
    name: nameArg.pipe(Args.optional),
    all: Options.boolean("all").pipe(Options.withDescription("Stop every running session of this HAL9000_HOME")),
    set: setOption
  },
  ({ name, all, set }) =>
    withSet(
      set,
      Effect.gen(function* () {
        const sessions = yield* Sessions
        if (all === Option.isSome(name)) {
          return yield* new UsageError({ detail: "sessions stop takes a session NAME or --all, and not both", fix: "claudy sessions stop NAME, or claudy sessions stop --all" })
        }
        if (all) {
          const { sessions: views } = yield* sessions.list
          const running = views.filter((v) => v.running).map((v) => v.record.name)
          yield* Effect.forEach(running, (n) => sessions.stop(n), { concurrency: 4 })
          return yield* Console.log(running.length === 0 ? "No running sessions" : `Stopped ${running.length}: ${running.join(", ")}`)
        }
        const n = Option.getOrThrow(name)
        const v = yield* sessions.stop(n)
        yield* Console.log(`Session ${n} stopped (${v.record.status}); remove it with: claudy sessions rm ${n}`)
      })
    )
).pipe(Command.withDescription("Stop a session's container, or every running one with --all (records and containers stay until rm)"))

const shell = Command.make("shell", { name: nameArg, set: setOption }, ({ name, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const c = yield* (yield* Sessions).requireContainer(name)
      if (!c.State.Running) {
        return yield* Console.error(`Session ${name} is not running (${c.State.Status}): a shell needs its worker running; start a new one with claudy ${c.Config.Labels?.[LABEL.project] ?? "PATH"}`).pipe(
          Effect.zipRight(Effect.fail(new SilentExit({ code: 1 })))
        )
      }
      const code = yield* shellInSession((yield* Engine).address, name, c.Id, c.Config.User ?? "")
      if (code !== 0) return yield* new SilentExit({ code })
    })
  )
).pipe(Command.withDescription("Open a shell in a running session's worker, as its user, in /workspace (exit the shell to leave; the session runs on)"))

const rm = Command.make(
  "rm",
  {
    name: nameArg,
    force: Options.boolean("force").pipe(Options.withDescription("Kill a running session instead of stopping it gracefully")),
    set: setOption
  },
  ({ name, force, set }) =>
    withSet(
      set,
      Effect.gen(function* () {
        yield* (yield* Sessions).remove(name, force)
        yield* Console.log(`Session ${name} removed`)
      })
    )
).pipe(Command.withDescription("Remove a session: its container, record and secret file"))

export const sessionsCommand = Command.make("sessions").pipe(
  Command.withDescription("List, inspect, attach to, open a shell in, follow, stop and remove sessions"),
  Command.withSubcommands([list, inspect, attach, shell, logs, stop, rm])
)
