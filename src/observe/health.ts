/**
 * /health/live, /health/ready and /metrics of `daemon run`, served with @effect/platform's HTTP server.
 * Ready means: the parent runs, ChromaDB answers, and the restart circuit is not open.
 * The server is bound in the caller's scope before `daemon run` says it is ready: an address that cannot be bound
 * fails the supervisor with the address and its holder, never a READY service without /health.
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { Cause, Effect, Layer, Ref } from "effect"
import { Settings } from "../config/Settings.ts"
import { portIsFree, processHoldingPort } from "../daemon/portHolder.ts"
import { PROBE_DEADLINE, probeParent } from "../daemon/probe.ts"
import type { WatchdogState } from "../daemon/watchdog.ts"
import { PortInUse, UsageError } from "../domain/errors.ts"
import { LABEL, ownerFilter } from "../domain/labels.ts"
import { Engine } from "../docker/Engine.ts"
import { readClaims, sessionOf } from "../pool/claims.ts"
import { readSpawns } from "../pool/files.ts"
import { ownerOf } from "../state/home.ts"
import { HttpServe } from "./HttpServe.ts"
import { type Family, histogram, render } from "./prometheus.ts"

const SPAWN_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const CIRCUIT_VALUE = { closed: 0, "half-open": 1, open: 2 } as const

export const healthServer = (watchdog: Ref.Ref<WatchdogState>) =>
  Effect.gen(function* () {
    const { settings } = yield* Settings
    const engine = yield* Engine
    const context = yield* Effect.context<Engine | Settings>()
    const serve = yield* HttpServe
    const owner = ownerOf(settings)
    if (settings.httpAddr === null) return
    const addr = settings.httpAddr

    // The light probe (parent inspect + heartbeat under its deadline): a stuck engine answers 503 in time.
    const components = Effect.gen(function* () {
      const [p, w] = yield* Effect.all([Effect.provide(probeParent, context), Ref.get(watchdog)])
      return {
        parent: { ready: p.state === "running", state: p.state, ...(p.error ? { error: p.error } : {}) },
        chromadb: { ready: p.healthy, url: p.url || null, heartbeat_ms: p.heartbeatMs },
        watchdog: { ready: w.circuit !== "open", circuit: w.circuit, restarts: w.restarts }
      }
    })

    const metrics = Effect.gen(function* () {
      const [c, w, containers, claims, spawns] = yield* Effect.all([
        components,
        Ref.get(watchdog),
        engine.listContainers(ownerFilter(owner)).pipe(Effect.timeout(PROBE_DEADLINE), Effect.orElseSucceed(() => [])),
        readClaims(settings.home),
        readSpawns(settings.home)
      ])
      const role = (r: string) => containers.filter((x) => x.Labels[LABEL.role] === r)
      const sessions = containers.filter((x) => sessionOf(x.Labels, claims) !== undefined)
      const idleWarm = role("warm").filter((x) => !claims.has(x.Labels[LABEL.slot] ?? "") && x.State === "running")
      const byState = new Map<string, number>()
      for (const s of sessions) byState.set(s.State, (byState.get(s.State) ?? 0) + 1)
      const families: Array<Family> = [
        { name: "claudy_parent_up", help: "1 when the parent container runs", type: "gauge", samples: [{ value: c.parent.ready ? 1 : 0 }] },
        { name: "claudy_chromadb_up", help: "1 when ChromaDB answers its heartbeat", type: "gauge", samples: [{ value: c.chromadb.ready ? 1 : 0 }] },
        {
          name: "claudy_chromadb_heartbeat_seconds",
          help: "latency of the last ChromaDB heartbeat",
          type: "gauge",
          samples: [{ value: (c.chromadb.heartbeat_ms ?? 0) / 1000 }]
        },
        {
          name: "claudy_sessions",
          help: "sessions by container state",
          type: "gauge",
          samples: ["running", "exited", "created"].map((state) => ({ labels: { state }, value: byState.get(state) ?? 0 }))
        },
        {
          name: "claudy_warm_workers",
          help: "warm pool workers by state",
          type: "gauge",
          samples: [
            { labels: { state: "idle" }, value: idleWarm.length },
            { labels: { state: "claimed" }, value: role("warm").length - idleWarm.length }
          ]
        },
        {
          name: "claudy_spawns_total",
          help: "spawns by how they were served",
          type: "counter",
          samples: (["warm", "cold"] as const).map((served) => ({ labels: { served }, value: spawns.filter((s) => s.served === served).length }))
        },
        histogram(
          "claudy_spawn_duration_seconds",
          "time from the start of a spawn to the session's hand-off",
          spawns.flatMap((s) => (s.ms === undefined ? [] : [s.ms / 1000])),
          SPAWN_BUCKETS
        ),
        { name: "claudy_parent_restarts_total", help: "parent restarts by the supervisor", type: "counter", samples: [{ value: w.restarts }] },
        {
          name: "claudy_restart_circuit_state",
          help: "restart circuit breaker: 0 closed, 1 half-open, 2 open",
          type: "gauge",
          samples: [{ value: CIRCUIT_VALUE[w.circuit] }]
        }
      ]
      return render(families)
    })

    const router = HttpRouter.empty.pipe(
      HttpRouter.get("/health/live", HttpServerResponse.json({ status: "ok" })),
      HttpRouter.get(
        "/health/ready",
        Effect.flatMap(components, (c) => {
          const ready = c.parent.ready && c.chromadb.ready && c.watchdog.ready
          return HttpServerResponse.json({ status: ready ? "ready" : "not ready", components: c }, { status: ready ? 200 : 503 })
        })
      ),
      HttpRouter.get(
        "/metrics",
        Effect.map(metrics, (text) => HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4" }))
      )
    )
    // Bun.serve throws (a defect) and Node's listen fails (a ServeError) on an address in use: both end here.
    yield* Layer.buildWithScope(HttpServer.serve(router).pipe(Layer.provide(serve(addr))), yield* Effect.scope).pipe(
      Effect.catchAllCause((cause) => Effect.flatMap(bindFailure(addr, cause), Effect.fail))
    )
    yield* Effect.logInfo(`health and metrics on http://${addr.host}:${addr.port} (/health/live, /health/ready, /metrics)`)
  })

/** Why the health server could not bind: the port's holder when it is taken, else the engine's own words. */
const bindFailure = (addr: { readonly host: string; readonly port: number }, cause: Cause.Cause<unknown>) =>
  Effect.gen(function* () {
    const [free, holder] = yield* Effect.all([portIsFree(addr.port, addr.host), processHoldingPort(addr.port)])
    if (!free || holder !== undefined) {
      return new PortInUse({ port: addr.port, host: addr.host, holder: holder ?? "another process", setting: "HAL9000_HTTP_ADDR" })
    }
    const why = Cause.squash(cause)
    return new UsageError({
      detail: `cannot serve health and metrics on ${addr.host}:${addr.port} (HAL9000_HTTP_ADDR): ${why instanceof Error ? why.message : String(why)}`,
      fix: "set HAL9000_HTTP_ADDR to an address of this host, like 127.0.0.1:9090, or to none"
    })
  })
