import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Either, Option } from "effect"
import { ConfigInvalid, SilentExit, UsageError } from "../domain/errors.ts"
import { LABEL } from "../domain/labels.ts"
import { Settings } from "../config/Settings.ts"
import { Engine } from "../docker/Engine.ts"
import { stdinFrame } from "../swarm/handoffProtocol.ts"
import type { SwarmSessions } from "../swarm/sessions.ts"
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

const statusText = (r: SessionRecord) => (r.status === "exited" && r.exit_code !== null ? `exited (${r.exit_code})` : r.status)

const hintFor = (r: SessionRecord) =>
  r.status === "oom-killed"
    ? `killed by its memory limit (${r.resource_limits.memory}): respawn with more, e.g. claudy --via-parent --memory 8g ${r.project_dir}`
    : r.status === "pids-limit-reached"
      ? `its processes hit the pids limit (${r.resource_limits.pids_limit}): respawn with more, e.g. claudy --via-parent --pids-limit 200 ${r.project_dir}`
      : r.status === "gone"
        ? `its container no longer exists: remove the record with claudy sessions rm ${r.name}`
        : r.status === "lost"
          ? `its node ${r.node ?? "?"} is down or does not answer: it cannot be reached; remove it with claudy sessions rm ${r.name}`
          : undefined

/** HAL9000_BACKEND=swarm: the swarm's sessions (that code is loaded only then). */
const onSwarm = <A, E, R>(body: (s: SwarmSessions["Type"]) => Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const { SwarmSessions } = yield* Effect.promise(() => import("../swarm/sessions.ts"))
    return yield* Effect.flatMap(SwarmSessions, body).pipe(Effect.provide(SwarmSessions.layer))
  })

const isSwarm = Effect.map(Settings, ({ settings }) => settings.backend === "swarm")

/** The sessions of this home: on one host, or on the swarm. */
const listSessions = Effect.gen(function* () {
  if (yield* isSwarm) return yield* onSwarm((s) => s.list)
  return yield* (yield* Sessions).list
})
const getSession = (name: string) =>
  Effect.gen(function* () {
    if (yield* isSwarm) return yield* onSwarm((s) => s.get(name))
    return yield* (yield* Sessions).get(name)
  })
const stopSession = (name: string) =>
  Effect.gen(function* () {
    if (yield* isSwarm) return yield* onSwarm((s) => s.stop(name))
    return yield* (yield* Sessions).stop(name)
  })

/**
 * A running session's container and the engine that runs it (a swarm session's node); or, when it is not running,
 * its state for the message.
 */
const runningTarget = (name: string) =>
  Effect.gen(function* () {
    if (yield* isSwarm) {
      const t = yield* onSwarm((s) => s.target(name))
      return t._tag === "running"
        ? { running: true as const, address: t.target.address, id: t.target.containerId, tty: t.target.view.tty, user: t.target.user, project: t.target.view.record.project_dir }
        : { running: false as const, state: t.view.record.status, project: t.view.record.project_dir }
    }
    const c = yield* (yield* Sessions).requireContainer(name)
    const project = c.Config.Labels?.[LABEL.project] ?? "PATH"
    return c.State.Running
      ? { running: true as const, address: (yield* Engine).address, id: c.Id, tty: c.Config.Tty ?? false, user: c.Config.User ?? "", project }
      : { running: false as const, state: c.State.Status, project }
  })

const view = (v: SessionView) => ({ ...v.record, running: v.running, rebuilt: v.rebuilt, hint: hintFor(v.record) ?? null })

const list = Command.make("list", { json: jsonOption, set: setOption }, ({ json, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const { sessions, skipped } = yield* listSessions
      for (const s of skipped) yield* Effect.logWarning(`skipped ${s.file}: ${s.reason}`)
      for (const v of sessions.filter((x) => x.rebuilt)) yield* Effect.logInfo(`rebuilt the record of ${v.record.name} from its container's labels`)
      if (json) return yield* printJson(sessions.map(view))
      if (sessions.length === 0) return yield* Console.log("No sessions. Spawn one with: claudy --via-parent /path/to/project")
      // On a swarm, the node each session runs on.
      const nodes = sessions.some((v) => v.record.node !== null)
      yield* Console.log(
        table([
          ["NAME", "STATUS", ...(nodes ? ["NODE"] : []), "PROJECT", "NETWORK", "LIMITS", "CREATED"],
          ...sessions.map(({ record: r }) => [
            r.name,
            statusText(r),
            ...(nodes ? [r.node ?? "-"] : []),
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
      const v = yield* getSession(name)
      if (json) return yield* printJson(view(v))
      const r = v.record
      yield* Console.log(
        table([
          ["Name:", r.name],
          ["Status:", statusText(r)],
          ["Container:", `${r.container_name} (${r.container_id.slice(0, 12)})`],
          ...(r.node !== null ? [["Node:", r.node]] : []),
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
      const t = yield* runningTarget(name)
      if (!t.running) {
        return yield* Console.error(`Session ${name} is not running (${t.state}); see: claudy sessions logs ${name}`).pipe(
          Effect.zipRight(Effect.fail(new SilentExit({ code: 1 })))
        )
      }
      // a swarm session without a TTY reads claudy's input in frames (its end is the session's end of file)
      const swarm = yield* isSwarm
      const r = yield* attachSession(t.address, name, t.id, { tty: t.tty, keepStdinOpen: swarm, ...(swarm && !t.tty ? { frameStdin: stdinFrame } : {}) })
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
        const text = (yield* isSwarm)
          ? yield* onSwarm((s) => (follow ? s.follow(name, tail, window) : s.logs(name, tail, window)))
          : yield* Effect.gen(function* () {
              const c = yield* (yield* Sessions).requireContainer(name)
              const engine = yield* Engine
              if (follow) return yield* Effect.as(followLogs(engine.address, name, c.Id, c.Config.Tty ?? false, tail, window), "")
              return yield* engine.containerLogs(c.Id, tail, window)
            })
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
        if (all === Option.isSome(name)) {
          return yield* new UsageError({ detail: "sessions stop takes a session NAME or --all, and not both", fix: "claudy sessions stop NAME, or claudy sessions stop --all" })
        }
        if (all) {
          const { sessions: views } = yield* listSessions
          const running = views.filter((v) => v.running).map((v) => v.record.name)
          yield* Effect.forEach(running, stopSession, { concurrency: 4 })
          return yield* Console.log(running.length === 0 ? "No running sessions" : `Stopped ${running.length}: ${running.join(", ")}`)
        }
        const n = Option.getOrThrow(name)
        const v = yield* stopSession(n)
        yield* Console.log(`Session ${n} stopped (${v.record.status}); remove it with: claudy sessions rm ${n}`)
      })
    )
).pipe(Command.withDescription("Stop a session's container, or every running one with --all (records and containers stay until rm)"))

const shell = Command.make("shell", { name: nameArg, set: setOption }, ({ name, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const t = yield* runningTarget(name)
      if (!t.running) {
        return yield* Console.error(`Session ${name} is not running (${t.state}): a shell needs its worker running; start a new one with claudy ${t.project}`).pipe(
          Effect.zipRight(Effect.fail(new SilentExit({ code: 1 })))
        )
      }
      const code = yield* shellInSession(t.address, name, t.id, t.user)
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
        if (yield* isSwarm) yield* onSwarm((s) => s.remove(name, force))
        else yield* (yield* Sessions).remove(name, force)
        yield* Console.log(`Session ${name} removed`)
      })
    )
).pipe(Command.withDescription("Remove a session: its container, record and secret file"))

export const sessionsCommand = Command.make("sessions").pipe(
  Command.withDescription("List, inspect, attach to, open a shell in, follow, stop and remove sessions"),
  Command.withSubcommands([list, inspect, attach, shell, logs, stop, rm])
)
