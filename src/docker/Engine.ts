/**
 * The one Docker service. JSON calls go through the small transport; nothing else in claudy talks to the engine.
 * Errors: no connection -> DockerUnavailable (with the real address); unexpected status -> DockerApiError;
 * 404 on an inspect -> Option.none; 304 on start/stop -> success (already in that state).
 */
import { Context, Duration, Effect, Either, Layer, LogLevel, Option } from "effect"
import { DockerApiError, DockerUnavailable, UsageError } from "../domain/errors.ts"
import { Settings } from "../config/Settings.ts"
import { type EngineAddress, parseDockerHost } from "./address.ts"
import { demuxFrames } from "./logStream.ts"
import { ConnectFailure, decodeText, type EngineRequest, type EngineResponse, engineRequest } from "./transport.ts"
import type {
  ContainerInspect,
  ContainerSummary,
  EngineVersion,
  Filters,
  ImageInspect,
  VolumeInspect,
  LogWindow
} from "./types.ts"

export type EngineError = DockerUnavailable | DockerApiError

const errorDetail = (res: EngineResponse) => {
  const text = decodeText(res.body)
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text
  } catch {
    return text.trim()
  }
}

const make = (address: EngineAddress) => {
  const call = (operation: string, req: EngineRequest): Effect.Effect<EngineResponse, DockerUnavailable> =>
    Effect.tryPromise({
      try: () => engineRequest(address, req),
      catch: (e) =>
        new DockerUnavailable({
          address: address.display,
          reason: e instanceof ConnectFailure ? e.reason : e instanceof Error ? e.message : String(e)
        })
    }).pipe(
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

  /** Call and expect one of `ok` statuses; map the rest to DockerApiError. */
  const expect = (operation: string, req: EngineRequest, ok: ReadonlyArray<number>) =>
    Effect.flatMap(call(operation, req), (res) =>
      ok.includes(res.status)
        ? Effect.succeed(res)
        : Effect.fail(new DockerApiError({ operation, status: res.status, detail: errorDetail(res) }))
    )

  const json = <A>(operation: string, req: EngineRequest) =>
    Effect.map(expect(operation, req, [200, 201]), (res) => JSON.parse(decodeText(res.body)) as A)

  /** Inspect-style GET where 404 means "there is none". */
  const maybe = <A>(operation: string, path: string) =>
    Effect.flatMap(expect(operation, { method: "GET", path }, [200, 404]), (res) =>
      Effect.succeed(res.status === 404 ? Option.none<A>() : Option.some(JSON.parse(decodeText(res.body)) as A))
    )

  const enc = encodeURIComponent
  const filters = (f: Filters) => JSON.stringify(f)

  return {
    address,
    ping: expect("ping", { method: "GET", path: "/_ping" }, [200]).pipe(Effect.asVoid),
    version: json<EngineVersion>("version", { method: "GET", path: "/version" }),
    info: json<Record<string, unknown>>("info", { method: "GET", path: "/info" }),

    inspectContainer: (nameOrId: string) => maybe<ContainerInspect>("inspect container", `/containers/${enc(nameOrId)}/json`),
    listContainers: (f: Filters) =>
      json<ReadonlyArray<ContainerSummary>>("list containers", {
        method: "GET",
        path: "/containers/json",
        query: { all: true, filters: filters(f) }
      }),
    createContainer: (name: string, body: unknown) =>
      json<{ Id: string }>("create container", { method: "POST", path: "/containers/create", query: { name }, body }),
    startContainer: (id: string) =>
      expect("start container", { method: "POST", path: `/containers/${enc(id)}/start` }, [204, 304]).pipe(Effect.asVoid),
    stopContainer: (id: string, timeoutSeconds: number) =>
      expect("stop container", { method: "POST", path: `/containers/${enc(id)}/stop`, query: { t: timeoutSeconds } }, [
        204,
        304,
        404
      ]).pipe(Effect.asVoid),
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
      Effect.map(
        expect("events", {
          method: "GET",
          path: "/events",
          query: { since, until: Math.ceil(Date.now() / 1000), filters: filters(f) }
        }, [200]),
        (res) =>
          decodeText(res.body)
            .split("\n")
            .filter((l) => l.trim() !== "")
            .map((l) => JSON.parse(l) as { status?: string; Action?: string; id?: string })
      ),
    /** Block until the container stops; its exit code. */
    waitContainer: (id: string) =>
      Effect.map(
        json<{ StatusCode: number }>("wait container", { method: "POST", path: `/containers/${enc(id)}/wait` }),
        (r) => r.StatusCode
      ),
    resizeContainer: (id: string, rows: number, cols: number) =>
      expect("resize", { method: "POST", path: `/containers/${enc(id)}/resize`, query: { h: rows, w: cols } }, [200, 201]).pipe(
        Effect.asVoid
      ),
    inspectVolume: (name: string) => maybe<VolumeInspect>("inspect volume", `/volumes/${enc(name)}`),
    createVolume: (name: string, labels: Record<string, string>) =>
      json<VolumeInspect>("create volume", { method: "POST", path: "/volumes/create", body: { Name: name, Labels: labels } }),
    listVolumes: (f: Filters) =>
      Effect.map(
        json<{ Volumes: ReadonlyArray<VolumeInspect> | null }>("list volumes", {
          method: "GET",
          path: "/volumes",
          query: { filters: filters(f) }
        }),
        (r) => r.Volumes ?? []
      ),
    removeVolume: (name: string) =>
      expect("remove volume", { method: "DELETE", path: `/volumes/${enc(name)}` }, [204, 404]).pipe(Effect.asVoid),

    removeImage: (name: string) =>
      expect("remove image", { method: "DELETE", path: `/images/${enc(name)}` }, [200, 404]).pipe(Effect.asVoid),
    inspectImage: (name: string) => maybe<ImageInspect>("inspect image", `/images/${enc(name)}/json`),
    /** Pull; the engine answers 200 and reports failures inside the progress stream, so read it to the end. */
    pullImage: (image: string) =>
      Effect.flatMap(
        expect("pull image", { method: "POST", path: "/images/create", query: { fromImage: image } }, [200, 404, 500]),
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

export interface EngineShape extends ReturnType<typeof make> {}

export class Engine extends Context.Tag("claudy/Engine")<Engine, EngineShape>() {
  /** From DOCKER_HOST; connects lazily, so commands that need no engine never wait on one. */
  static make = Effect.gen(function* () {
    const { settings } = yield* Settings
    const address = yield* Either.match(parseDockerHost(settings.dockerHost), {
      onLeft: (fix) => Effect.fail(new UsageError({ detail: `DOCKER_HOST '${settings.dockerHost}' is not usable`, fix })),
      onRight: (a) => Effect.succeed(a)
    })
    return make(address)
  })
  static layer = Layer.effect(Engine, Engine.make)
}
