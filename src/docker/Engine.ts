/**
 * The one Docker service. JSON calls go through the small transport; nothing else in claudy talks to the engine.
 * Errors: no connection -> DockerUnavailable (with the real address); unexpected status -> DockerApiError;
 * no answer within the call's deadline -> DockerTimeout (naming the call); an answer claudy cannot read ->
 * DockerResponseInvalid; 404 on an inspect -> Option.none; 304 on start/stop -> success (already in that state).
 * Streams (attach, logs -f, build, the event stream) go through dockerode and have no deadline.
 */
import { Context, Duration, Effect, Either, Layer, LogLevel, Option, Schedule, Schema } from "effect"
import {
  DockerApiError,
  DockerResponseInvalid,
  DockerTimeout,
  DockerUnavailable,
  UsageError
} from "../domain/errors.ts"
import { Settings } from "../config/Settings.ts"
import { type EngineAddress, parseDockerHost } from "./address.ts"
import { demuxFrames } from "./logStream.ts"
import { ConnectFailure, decodeText, type EngineRequest, type EngineResponse, engineRequest } from "./transport.ts"
import { Answers, type Filters, type LogWindow } from "./types.ts"

export type EngineError = DockerUnavailable | DockerApiError | DockerTimeout | DockerResponseInvalid

/**
 * How long a call may take before it is given up (DockerTimeout). Generous: a busy engine on 2 cores answers a
 * create in well under a second, and a stuck one must not hang a command, the watchdog or a health probe for ever.
 */
export const CALL_DEADLINE = Duration.seconds(30)
/** `none`: calls that wait on purpose (a container's exit, a pull's progress). */
export type Deadline = Duration.Duration | "none"

const idempotent = (method: EngineRequest["method"]) => method === "GET" || method === "HEAD"

/**
 * Whether a failed call is worth another try (pure): nothing reached the engine (refused while it restarts), or an
 * idempotent read was cut off or answered 502/503/504 (a proxy in front of a restarting engine). Never a 4xx, never
 * a timeout (the deadline is the call's whole budget), never a write that may have been applied.
 */
export const isTransient = (e: EngineError, method: EngineRequest["method"]) => {
  switch (e._tag) {
    case "DockerUnavailable":
      return e.reason === "connection refused" || (e.reason === "connection reset" && idempotent(method))
    case "DockerApiError":
      return idempotent(method) && (e.status === 502 || e.status === 503 || e.status === 504)
    default:
      return false
  }
}

/** Up to 3 more tries, 50 -> 100 -> 200 ms apart: an engine restarting answers again within that, or is down. */
const TRANSIENT_RETRY = Schedule.exponential("50 millis").pipe(Schedule.intersect(Schedule.recurs(3)))

const errorDetail = (res: EngineResponse) => {
  const text = decodeText(res.body)
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text
  } catch {
    return text.trim()
  }
}

/** Parse and decode a JSON answer with `schema` (only the fields claudy reads are kept). */
const decodeJson = <A, I>(operation: string, schema: Schema.Schema<A, I>, text: string) =>
  Effect.flatMap(
    Effect.try({ try: () => JSON.parse(text) as unknown, catch: () => new DockerResponseInvalid({ operation, detail: `not JSON: ${text.slice(0, 200)}` }) }),
    (json) =>
      Either.match(Schema.decodeUnknownEither(schema)(json), {
        onLeft: (e) => Effect.fail(new DockerResponseInvalid({ operation, detail: e.message })),
        onRight: (a) => Effect.succeed(a)
      })
  )

/** The service for one address; `callDeadline` is every call's deadline but those without one (tests shorten it). */
export const engineAt = (address: EngineAddress, callDeadline: Duration.Duration = CALL_DEADLINE) => {
  const once = (operation: string, req: EngineRequest, deadline: Deadline): Effect.Effect<EngineResponse, DockerUnavailable | DockerTimeout> => {
    // The transport's abort signal fires on interrupt: a deadline or Ctrl-C ends the request, not only our wait.
    const request = Effect.tryPromise({
      try: (signal) => engineRequest(address, req, signal),
      catch: (e) =>
        new DockerUnavailable({
          address: address.display,
          reason: e instanceof ConnectFailure ? e.reason : e instanceof Error ? e.message : String(e)
        })
    })
    return deadline === "none"
      ? request
      : request.pipe(
          Effect.timeoutFail({
            duration: deadline,
            onTimeout: () => new DockerTimeout({ address: address.display, operation, seconds: Math.round(Duration.toSeconds(deadline)) })
          })
        )
  }

  /** Call and expect one of `ok` statuses; map the rest to DockerApiError; retry what is transient. */
  const expect = (operation: string, req: EngineRequest, ok: ReadonlyArray<number>, deadline: Deadline = callDeadline) =>
    once(operation, req, deadline).pipe(
      Effect.flatMap((res) =>
        ok.includes(res.status)
          ? Effect.succeed(res)
          : Effect.fail(new DockerApiError({ operation, status: res.status, detail: errorDetail(res) }))
      ),
      Effect.retry({ schedule: TRANSIENT_RETRY, while: (e) => isTransient(e, req.method) }),
      Effect.timed,
      // Annotating a log sets fiber refs even when the line is filtered out: skip it all unless debug is on.
      Effect.tap(([d, res]) =>
        Effect.whenLogLevel(
          Effect.logDebug(`docker ${operation}`).pipe(
            Effect.annotateLogs({ method: req.method, path: req.path, status: res.status, ms: Math.round(Duration.toMillis(d)) })
          ),
          LogLevel.Debug
        )
      ),
      Effect.map(([, res]) => res)
    )

  const json = <A, I>(operation: string, req: EngineRequest, schema: Schema.Schema<A, I>, deadline?: Deadline) =>
    Effect.flatMap(expect(operation, req, [200, 201], deadline), (res) => decodeJson(operation, schema, decodeText(res.body)))

  /** Inspect-style GET where 404 means "there is none". */
  const maybe = <A, I>(operation: string, path: string, schema: Schema.Schema<A, I>) =>
    Effect.flatMap(expect(operation, { method: "GET", path }, [200, 404]), (res) =>
      res.status === 404 ? Effect.succeed(Option.none<A>()) : Effect.map(decodeJson(operation, schema, decodeText(res.body)), Option.some)
    )

  const enc = encodeURIComponent
  const removeByName = (name: string) =>
    expect("remove container", { method: "DELETE", path: `/containers/${enc(name)}`, query: { force: true } }, [204, 404]).pipe(Effect.ignore)
  const filters = (f: Filters) => JSON.stringify(f)

  return {
    address,
    /** The raw calls, for endpoints that live beside this file (src/swarm/api.ts): same deadlines, retries, errors. */
    call: { expect, json, maybe },
    ping: expect("ping", { method: "GET", path: "/_ping" }, [200]).pipe(Effect.asVoid),
    version: Effect.suspend(() => json("version", { method: "GET", path: "/version" }, Answers.engineVersion())),
    info: Effect.suspend(() => json("info", { method: "GET", path: "/info" }, Answers.info())),

    inspectContainer: (nameOrId: string) => maybe("inspect container", `/containers/${enc(nameOrId)}/json`, Answers.containerInspect()),
    listContainers: (f: Filters) =>
      json("list containers", { method: "GET", path: "/containers/json", query: { all: true, filters: filters(f) } }, Answers.containerList()),
    /**
     * A create that got no answer (deadline passed, connection cut) may still have happened: the container of that
     * name is removed (best effort) before the error is reported, so a failed create leaves nothing behind.
     */
    createContainer: (name: string, body: unknown) =>
      json("create container", { method: "POST", path: "/containers/create", query: { name }, body }, Answers.created()).pipe(
        Effect.tapError((e) =>
          e._tag === "DockerTimeout" || (e._tag === "DockerUnavailable" && e.reason === "connection reset")
            ? removeByName(name)
            : Effect.void
        )
      ),
    startContainer: (id: string) =>
      expect("start container", { method: "POST", path: `/containers/${enc(id)}/start` }, [204, 304]).pipe(Effect.asVoid),
    stopContainer: (id: string, timeoutSeconds: number) =>
      // the engine itself waits up to `timeoutSeconds` before it kills: that is part of the call's budget
      expect("stop container", { method: "POST", path: `/containers/${enc(id)}/stop`, query: { t: timeoutSeconds } }, [204, 304, 404],
        Duration.sum(callDeadline, Duration.seconds(timeoutSeconds))).pipe(Effect.asVoid),
    removeContainer: (id: string, opts: { force?: boolean } = {}) =>
      expect(
        "remove container",
        { method: "DELETE", path: `/containers/${enc(id)}`, query: { force: opts.force ?? false } },
        [204, 404]
      ).pipe(Effect.asVoid),
    renameContainer: (id: string, name: string) =>
      expect("rename container", { method: "POST", path: `/containers/${enc(id)}/rename`, query: { name } }, [204]).pipe(
        Effect.asVoid
      ),
    /** `since`: Unix seconds; `timestamps`: each line prefixed with its RFC 3339 time (as docker logs -t). */
    containerLogs: (id: string, tail: number, more: LogWindow = {}) =>
      Effect.map(
        expect(
          "container logs",
          { method: "GET", path: `/containers/${enc(id)}/logs`, query: { stdout: true, stderr: true, tail, ...more } },
          [200]
        ),
        (res) => demuxFrames(res.body)
      ),

    /** Past events (until now) matching `f`, from the engine's in-memory event log. */
    events: (f: Filters, since: number) =>
      Effect.flatMap(
        expect("events", {
          method: "GET",
          path: "/events",
          query: { since, until: Math.ceil(Date.now() / 1000), filters: filters(f) }
        }, [200]),
        (res) =>
          Effect.forEach(
            decodeText(res.body).split("\n").filter((l) => l.trim() !== ""),
            (l) => decodeJson("events", Answers.event(), l)
          )
      ),
    /** Block until the container stops, however long that takes (no deadline); its exit code. */
    waitContainer: (id: string) =>
      Effect.map(
        json("wait container", { method: "POST", path: `/containers/${enc(id)}/wait` }, Answers.waited(), "none"),
        (r) => r.StatusCode
      ),
    resizeContainer: (id: string, rows: number, cols: number) =>
      expect("resize", { method: "POST", path: `/containers/${enc(id)}/resize`, query: { h: rows, w: cols } }, [200, 201]).pipe(
        Effect.asVoid
      ),
    inspectVolume: (name: string) => maybe("inspect volume", `/volumes/${enc(name)}`, Answers.volumeInspect()),
    createVolume: (name: string, labels: Record<string, string>) =>
      json("create volume", { method: "POST", path: "/volumes/create", body: { Name: name, Labels: labels } }, Answers.volumeInspect()),
    listVolumes: (f: Filters) =>
      Effect.map(
        json("list volumes", { method: "GET", path: "/volumes", query: { filters: filters(f) } }, Answers.volumeList()),
        (r) => r.Volumes ?? []
      ),
    removeVolume: (name: string) =>
      expect("remove volume", { method: "DELETE", path: `/volumes/${enc(name)}` }, [204, 404]).pipe(Effect.asVoid),

    removeImage: (name: string) =>
      expect("remove image", { method: "DELETE", path: `/images/${enc(name)}` }, [200, 404]).pipe(Effect.asVoid),
    inspectImage: (name: string) => maybe("inspect image", `/images/${enc(name)}/json`, Answers.imageInspect()),
    /** Pull; the engine answers 200 and reports failures inside the progress stream, so read it to the end (no deadline). */
    pullImage: (image: string) =>
      Effect.flatMap(
        expect("pull image", { method: "POST", path: "/images/create", query: { fromImage: image } }, [200, 404, 500], "none"),
        (res) => {
          const text = decodeText(res.body)
          if (res.status !== 200) return Effect.fail(new DockerApiError({ operation: "pull image", status: res.status, detail: errorDetail(res) }))
          const failed = text
            .split("\n")
            .map((l) => { try { return JSON.parse(l) as { error?: string } } catch { return {} } })
            .find((m) => m.error)
          return failed
            ? Effect.fail(new DockerApiError({ operation: "pull image", status: 200, detail: failed.error ?? "" }))
            : Effect.void
        }
      )
  }
}

export interface EngineShape extends ReturnType<typeof engineAt> {}

export class Engine extends Context.Tag("claudy/Engine")<Engine, EngineShape>() {
  /** From DOCKER_HOST; connects lazily, so commands that need no engine never wait on one. */
  static make = Effect.gen(function* () {
    const { settings } = yield* Settings
    const address = yield* Either.match(parseDockerHost(settings.dockerHost), {
      onLeft: (fix) => Effect.fail(new UsageError({ detail: `DOCKER_HOST '${settings.dockerHost}' is not usable`, fix })),
      onRight: (a) => Effect.succeed(a)
    })
    return engineAt(address)
  })
  static layer = Layer.effect(Engine, Engine.make)
}
