import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { Parent, type ParentStatus } from "../daemon/Parent.ts"
import { SilentExit } from "../domain/errors.ts"
import { Engine } from "../docker/Engine.ts"
import { Settings } from "../config/Settings.ts"
import { followLogs } from "../sessions/followLogs.ts"
import { followOption, jsonOption, printJson, setOption, table, withExamples } from "./common.ts"
import { EXIT } from "./exitCodes.ts"
import { startManager } from "./poolCommand.ts"
import { withSet } from "./services.ts"

const recreateOption = Options.boolean("recreate").pipe(
  Options.withDescription("Recreate the parent when its settings differ from the current ones (volumes are kept)")
)

const duration = (s: number) =>
  s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`

const startAndReport = (recreate: boolean) =>
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
    const { settings } = yield* Settings
    if (settings.enablePoolManager) {
      const m = yield* startManager
      yield* Console.log(m.started ? `Pool manager started (pid ${m.pid})` : `Pool manager is already running (pid ${m.pid})`)
    }
  })

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
      Effect.gen(function* () {
        const parent = yield* Parent
        const r = yield* parent.stop
        const text = {
          absent: `Parent container '${parent.name}' does not exist; nothing to stop`,
          "already-stopped": `Parent container '${parent.name}' is already stopped`,
          stopped: `Parent container '${parent.name}' stopped (volumes kept; start again with: claudy daemon start)`
        }[r]
        yield* Console.log(text)
      })
  )
).pipe(Command.withDescription("Stop the parent container gracefully; volumes and data are kept"))

const restart = Command.make("restart", { set: setOption }, ({ set }) =>
  withSet(
    set,
      Effect.gen(function* () {
        const parent = yield* Parent
        const stopped = yield* parent.stop
        if (stopped === "stopped") yield* Console.error(`Stopped '${parent.name}'`)
        // restart is how new settings are applied (e.g. CHROMADB_PORT=8080 claudy daemon restart), so it recreates.
        yield* startAndReport(true)
        const after = yield* parent.status
        if (after.workers.orphanedNetwork > 0) {
          yield* Console.error(
            `${after.workers.orphanedNetwork} via-parent worker(s) joined the previous parent and have no network now; ` +
              "they keep running (their work is not interrupted) but must be respawned to reach ChromaDB"
          )
        }
      })
  )
).pipe(Command.withDescription("Stop, then start the parent with the current settings (recreated if they changed)"))

const statusExitCode = (s: ParentStatus) =>
  s.state === "absent" || s.state === "stopped" ? EXIT.notRunning : s.healthy ? EXIT.ok : EXIT.unhealthy

const renderStatus = (s: ParentStatus) => {
  const state =
    s.state === "running" ? `running${s.uptimeSeconds !== undefined ? ` (up ${duration(s.uptimeSeconds)})` : ""}` : s.state
  const chroma = s.chromadb.heartbeat
    ? `healthy at ${s.chromadb.url}${s.chromadb.version ? `, version ${s.chromadb.version}` : ""}, heartbeat ${s.chromadb.heartbeatMs} ms`
    : `not answering at ${s.chromadb.url}${s.chromadb.error ? ` (${s.chromadb.error})` : ""}`
  const rows = [
    ["Parent:", `${s.container}  ${state}${s.restartCount ? `, ${s.restartCount} restarts` : ""}`],
    ...(s.image ? [["Image:", `${s.image}  ${s.imageDigest ?? s.imageId?.slice(0, 19) ?? ""}`]] : []),
    ["ChromaDB:", chroma],
    ["Port:", `127.0.0.1:${s.port}`],
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
        const s = yield* (yield* Parent).status
        yield* json ? printJson(s) : Console.log(renderStatus(s))
        const code = statusExitCode(s)
        if (code !== EXIT.ok) return yield* new SilentExit({ code })
      })
  )
).pipe(
  Command.withDescription(
    "Show the parent's state, image, ChromaDB heartbeat, port, volumes and workers (exit 0 healthy, 3 not running, 4 unhealthy, 5 no engine)"
  )
)

const tailOption = Options.integer("tail").pipe(Options.withPseudoName("N"), Options.withDefault(50), Options.withDescription("Number of lines"))

const logs = Command.make("logs", { tail: tailOption, follow: followOption, set: setOption }, ({ tail, follow, set }) =>
  withSet(
    set,
      Effect.gen(function* () {
        const parent = yield* Parent
        const engine = yield* Engine
        yield* Settings
        const s = yield* parent.status
        if (s.state === "absent") return yield* Console.log(`Parent container '${parent.name}' does not exist`)
        if (follow) return yield* followLogs(engine.address, parent.name, parent.name, false, tail)
        yield* Console.log((yield* engine.containerLogs(parent.name, tail)).trimEnd())
      })
  )
).pipe(Command.withDescription("Print the last lines of the parent's log (ChromaDB's output); -f keeps following it"))

// The supervisor (health server, HTTP router, pool loop) is loaded only by the command that runs it.
const supervise = Effect.flatMap(
  Effect.promise(() => import("../daemon/supervisor.ts")),
  (m) => m.supervise
)

const runCmd = Command.make("run", { set: setOption }, ({ set }) => withSet(set, supervise)).pipe(
  Command.withDescription(
    "Foreground supervisor for systemd: ensures the parent, restarts it with backoff behind a circuit breaker, serves /health and /metrics, runs the pool loop when ENABLE_POOL_MANAGER=true; exits 0 on SIGTERM"
  )
)

export const daemonCommand = Command.make("daemon").pipe(
  Command.withDescription("Manage the parent container that runs ChromaDB"),
  Command.withSubcommands([start, stop, status, restart, logs, runCmd])
)
