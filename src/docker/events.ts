/**
 * The engine's event stream (GET /events), followed through dockerode like the other long-lived streams (attach,
 * logs -f): no deadline, ended only by the engine or by interruption. `followEvents` reconnects after the engine
 * goes away (a dockerd restart ends the stream) and reports each new connection as a `connected` event, since what
 * happened while it was away is unknown.
 */
import { Chunk, type Duration, Effect, Schedule, Stream } from "effect"
import { DockerUnavailable } from "../domain/errors.ts"
import type { EngineAddress } from "./address.ts"
import { loadDockerode } from "./dockerode.ts"

export interface EngineEvent {
  /** die, oom, destroy, … as the engine names them; `connected` when the stream (re)opens */
  readonly action: string
  readonly id: string
  readonly name: string
}

/** Split newline-delimited JSON events out of a text buffer (pure): the events and the unfinished rest. */
export const splitEvents = (buffer: string): { readonly events: ReadonlyArray<EngineEvent>; readonly rest: string } => {
  const lines = buffer.split("\n")
  const rest = lines.pop() ?? ""
  const events = lines.flatMap((line): Array<EngineEvent> => {
    if (line.trim() === "") return []
    try {
      const e = JSON.parse(line) as { Action?: string; status?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } }
      return [{ action: e.Action ?? e.status ?? "", id: e.Actor?.ID ?? e.id ?? "", name: e.Actor?.Attributes?.name ?? "" }]
    } catch {
      return []
    }
  })
  return { events, rest }
}

/** One subscription: `connected`, then every matching event until the engine closes the stream. */
const subscribe = (address: EngineAddress, filters: Record<string, ReadonlyArray<string>>) =>
  Stream.async<EngineEvent, DockerUnavailable>((emit) => {
    let stream: NodeJS.ReadableStream | undefined
    const fail = (e: unknown) =>
      emit.fail(new DockerUnavailable({ address: address.display, reason: `event stream: ${e instanceof Error ? e.message : String(e)}` }))
    loadDockerode(address)
      .then(async (docker) => {
        stream = (await docker.getEvents({ filters: JSON.stringify(filters) } as never)) as unknown as NodeJS.ReadableStream
        void emit.single({ action: "connected", id: "", name: "" })
        let buffer = ""
        stream.on("data", (chunk: Buffer | string) => {
          const { events, rest } = splitEvents(buffer + chunk.toString())
          buffer = rest
          if (events.length > 0) void emit.chunk(Chunk.fromIterable(events))
        })
        stream.on("end", () => void emit.end())
        stream.on("error", fail)
      })
      .catch(fail)
    return Effect.sync(() => (stream as { destroy?: () => void } | undefined)?.destroy?.())
  })

/**
 * Call `onEvent` for every event matching `filters`, for as long as the caller's fiber lives: the stream is opened
 * again `retry` after it ends or fails (an engine restart), each time starting with a `connected` event.
 */
export const followEvents = <R>(
  address: EngineAddress,
  filters: Record<string, ReadonlyArray<string>>,
  onEvent: (e: EngineEvent) => Effect.Effect<void, never, R>,
  retry: Duration.DurationInput = "500 millis"
) =>
  Stream.runForEach(subscribe(address, filters), onEvent).pipe(
    Effect.catchAll((e) => Effect.logDebug(`engine events: ${e.message}; reconnecting`)),
    Effect.repeat(Schedule.spaced(retry))
  )
