import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { Parent, type ParentStatus } from "../daemon/Parent.ts"
import { SilentExit } from "../domain/errors.ts"
import { Engine } from "../docker/Engine.ts"
import { Settings } from "../config/Settings.ts"
import { followLogs } from "../sessions/followLogs.ts"
import { duration, followOption, jsonOption, printJson, setOption, table, withExamples } from "./common.ts"
import { EXIT } from "./exitCodes.ts"
import { keepSettings, keptUpdates } from "../config/kept.ts"
import { ensureManager } from "./poolCommand.ts"
import { withSet } from "./services.ts"
import { byBackend, localOnly } from "../swarm/backendSeam.ts"
import type { SwarmParentStatus } from "../swarm/parentService.ts"

/** The swarm forms of the verbs (HAL9000_BACKEND=swarm), loaded only then: the local path never reads them. */
const onSwarm = <A, E, R>(f: (m: typeof import("../swarm/parentCommands.ts")) => Effect.Effect<A, E, R>) => () =>
  Effect.flatMap(Effect.promise(() => import("../swarm/parentCommands.ts")), f)

const recreateOption = Options.boolean("recreate").pipe(
  Options.withDescription("Recreate the parent when its settings differ from the current ones (volumes are kept)")
)

/**
 * Start the parent, keep the worker and pool settings given (config/kept.ts: later commands use them), and start the
 * pool manager when asked — restarting a detached one that runs with other settings.
 */
const startLocal = (recreate: boolean) =>
  Effect.gen(function* () {
    const parent = yield* Parent
    const r = yield* parent.start({ recreate })
    const url = `http://127.0.0.1:${r.port}`
    if (r.outcome === "already-running") {
      yield* Console.log(`Parent container '${r.container}' is already running; ChromaDB is healthy at ${url}`)
    } else {
      yield* Console.log(`Parent container '${r.container}' ${r.outcome}; ChromaDB is ready at ${url}`)
      yield* Console.log(`Spawn a worker with: claudy --via-parent /path/to/project`)
    }
  })

const startAndReport = (recreate: boolean) =>
  Effect.gen(function* () {
    const { settings, sources } = yield* Settings
    yield* byBackend(startLocal(recreate), onSwarm((m) => m.start(recreate)))
    const updates = keptUpdates(sources)
    const changed = yield* keepSettings(settings.home, updates, "daemon start")
    if (changed.length > 0) {
      yield* Console.log(`Kept for later commands: ${changed.map((k) => `${k}=${updates[k]}`).join(" ")} (claudy config shows every setting and its source)`)
    }
    // the pool manager is a process on this host that fills the local pool (a swarm's warm pool: claudy pool start)
    if (settings.enablePoolManager && settings.backend === "local") {
      const m = yield* ensureManager
      yield* Console.log(
        m.restarted
          ? `Pool manager restarted with the new settings (pid ${m.pid})`
          : m.started
            ? `Pool manager started (pid ${m.pid})`
            : `Pool manager is already running (pid ${m.pid}${m.kind === "daemon run" ? ", the pool loop of claudy daemon run" : ""})`
      )
    }
  })

/** The guide's warning: via-parent sessions live in the parent's network namespace and lose it when it stops. */
const lostNetworkWarning = (sessions: ReadonlyArray<string>, when: "lose" | "lost") =>
  sessions.length === 0
    ? Effect.void
    : Console.error(
        `${sessions.length} via-parent session(s) ${when === "lose" ? "lose" : "joined the previous parent and have lost"} their network: ` +
          `${sessions.join(", ")}; they keep running (their work is not interrupted) but must be respawned to reach ChromaDB ` +
          `(claudy sessions stop NAME, then claudy --via-parent PATH)`
      )

const start = Command.make("start", { recreate: recreateOption, set: setOption }, ({ recreate, set }) =>
  withSet(set, startAndReport(recreate))
).pipe(
  Command.withDescription(
    withExamples("Create or start the parent container and wait until ChromaDB answers (idempotent)", [
      ["claudy daemon start", "start the parent with the current settings (a healthy one is left alone)"],
      ["CHROMADB_PORT=8080 claudy daemon start --recreate", "apply new settings: the parent is recreated, its volumes kept"],
      ["ENABLE_POOL_MANAGER=true claudy daemon start", "also start the pool manager"]
    ])
  )
)

const stop = Command.make("stop", { set: setOption }, ({ set }) =>
  withSet(
    set,
    byBackend(
      Effect.gen(function* () {
        const parent = yield* Parent
        const before = yield* parent.status.pipe(Effect.option)
        const r = yield* parent.stop
        if (r === "stopped" && Option.isSome(before)) yield* lostNetworkWarning(before.value.workers.viaParentSessions, "lose")
        const text = {
          absent: `Parent container '${parent.name}' does not exist; nothing to stop`,
          "already-stopped": `Parent container '${parent.name}' is already stopped`,
          stopped: `Parent container '${parent.name}' stopped (volumes kept; start again with: claudy daemon start)`
        }[r]
        yield* Console.log(text)
      }),
      onSwarm((m) => m.stop)
    )
  )
).pipe(Command.withDescription("Stop the parent container (on a swarm: scale its service to 0) gracefully; volumes and data are kept"))

const restart = Command.make("restart", { set: setOption }, ({ set }) =>
  withSet(
    set,
    byBackend(
      Effect.gen(function* () {
        const parent = yield* Parent
        const stopped = yield* parent.stop
        if (stopped === "stopped") yield* Console.error(`Stopped '${parent.name}'`)
        // restart is how new settings are applied (e.g. CHROMADB_PORT=8080 claudy daemon restart), so it recreates.
        yield* startAndReport(true)
        yield* lostNetworkWarning((yield* parent.status).workers.orphanedSessions, "lost")
      }),
      // on a swarm workers reach ChromaDB by name on the overlay network: a new parent task loses none of them
      onSwarm((m) =>
        Effect.gen(function* () {
          const { name, outcome } = yield* m.stopped
          if (outcome === "stopped") yield* Console.error(`Stopped '${name}'`)
          yield* startAndReport(true)
        })
      )
    )
  )
).pipe(Command.withDescription("Stop, then start the parent with the current settings (recreated if they changed)"))

const statusExitCode = (s: ParentStatus) =>
  s.state === "absent" || s.state === "stopped" ? EXIT.notRunning : s.healthy ? EXIT.ok : EXIT.unhealthy

const renderStatus = (s: ParentStatus | SwarmParentStatus) => {
  const swarm = "backend" in s ? s : undefined
  const state =
    s.state === "running" ? `running${s.uptimeSeconds !== undefined ? ` (up ${duration(s.uptimeSeconds)})` : ""}` : s.state
  const chroma = s.chromadb.heartbeat
    ? `healthy at ${s.chromadb.url}${s.chromadb.version ? `, version ${s.chromadb.version}` : ""}, heartbeat ${s.chromadb.heartbeatMs} ms`
    : `not answering at ${s.chromadb.url}${s.chromadb.error ? ` (${s.chromadb.error})` : ""}`
  const rows = [
    ["Parent:", `${swarm ? "service " : ""}${s.container}  ${state}${s.restartCount ? `, ${s.restartCount} restarts` : ""}`],
    ...(swarm ? [["Node:", swarm.node ?? "(no node holds its volumes yet)"]] : []),
    ...(s.image ? [["Image:", `${s.image}  ${s.imageDigest ?? s.imageId?.slice(0, 19) ?? ""}`]] : []),
    ["ChromaDB:", chroma],
    swarm ? ["Network:", `${swarm.network} (overlay; nothing published on a host)`] : ["Port:", `127.0.0.1:${s.port}`],
    ["Volumes:", s.volumes.map((v) => `${v.name} ${v.present ? "present" : "missing"}`).join(", ")],
    [
      "Workers:",
      `${s.workers.running} running, ${s.workers.total} in all` +
        (s.workers.orphanedNetwork > 0
          ? `; ${s.workers.orphanedNetwork} joined an earlier parent and have no network: respawn them (claudy sessions list)`
          : "")
    ]
  ]
  const next =
    s.state === "absent" || s.state === "stopped"
      ? "\nStart it with: claudy daemon start"
      : !s.healthy
        ? "\nChromaDB is not answering: claudy daemon logs, then claudy daemon restart"
        : ""
  return table(rows) + next
}

const status = Command.make("status", { json: jsonOption, set: setOption }, ({ json, set }) =>
  withSet(
    set,
      Effect.gen(function* () {
        const s = yield* byBackend(Effect.flatMap(Parent, (p) => p.status), onSwarm((m) => m.status))
        yield* json ? printJson(s) : Console.log(renderStatus(s))
        const code = statusExitCode(s)
        if (code !== EXIT.ok) return yield* new SilentExit({ code })
      })
  )
).pipe(
  Command.withDescription(
    "Show the parent's state, image, ChromaDB heartbeat, port (on a swarm: node and network), volumes and workers (exit 0 healthy, 3 not running, 4 unhealthy, 5 no engine)"
  )
)

const tailOption = Options.integer("tail").pipe(Options.withPseudoName("N"), Options.withDefault(50), Options.withDescription("Number of lines"))

const logs = Command.make("logs", { tail: tailOption, follow: followOption, set: setOption }, ({ tail, follow, set }) =>
  withSet(
    set,
    byBackend(
      Effect.gen(function* () {
        const parent = yield* Parent
        const engine = yield* Engine
        yield* Settings
        const s = yield* parent.status
        if (s.state === "absent") return yield* Console.log(`Parent container '${parent.name}' does not exist`)
        if (follow) return yield* followLogs(engine.address, parent.name, parent.name, false, tail)
        yield* Console.log((yield* engine.containerLogs(parent.name, tail)).trimEnd())
      }),
      onSwarm((m) => m.logs(tail, follow))
    )
  )
).pipe(Command.withDescription("Print the last lines of the parent's log (ChromaDB's output); -f keeps following it"))

// The supervisor (health server, HTTP router, pool loop) is loaded only by the command that runs it.
const supervise = Effect.flatMap(
  Effect.promise(() => import("../daemon/supervisor.ts")),
  (m) => m.supervise
)

// The control server (src/server/) runs beside the supervisor, in the same scope: SIGTERM ends both.
const withControlServer = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.promise(() => import("../server/server.ts")), (m) =>
    Effect.scoped(Effect.zipRight(Effect.forkScoped(m.serveControl.pipe(Effect.catchAll((e) => Effect.logWarning(`control socket not served: ${e.message}`)))), self))
  )

const runCmd = Command.make("run", { set: setOption }, ({ set }) =>
  withSet(
    set,
    Effect.zipRight(
      localOnly(
        "daemon run",
        "it supervises a parent container on this host; on a swarm the swarm itself restarts the parent service (restart policy any) on the node that holds its volumes",
        "start the parent once with: claudy daemon start; check it with: claudy daemon status, claudy doctor"
      ),
      withControlServer(supervise)
    )
  )
).pipe(
  Command.withDescription(
    "Foreground supervisor for systemd: ensures the parent, restarts it with backoff behind a circuit breaker, serves /health and /metrics and the control socket (claudy serve), runs the pool loop when ENABLE_POOL_MANAGER=true; exits 0 on SIGTERM"
  )
)

export const daemonCommand = Command.make("daemon").pipe(
  Command.withDescription("Manage the parent container that runs ChromaDB"),
  Command.withSubcommands([start, stop, status, restart, logs, runCmd])
)
