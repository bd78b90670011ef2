/**
 * The control server's warm state: it follows the engine's event stream, and answers reused by requests (WarmState)
 * stay valid only until the next event that could change them — any event of a claudy container (parent or worker),
 * or of any volume or image. While the stream is down (engine restarting), nothing is reused. Some answers (ChromaDB's
 * heartbeat) are also bounded in age and kept fresh in the background while they are being asked for.
 */
import { Effect, FiberRef, Option, Schedule } from "effect"
import type { EngineAddress } from "../docker/address.ts"
import { ConnectFailure, engineStream } from "../docker/transport.ts"
import { LABEL } from "../domain/labels.ts"
import { currentDependencies, notReusable, type WarmCache } from "./WarmState.ts"

export interface EngineEvent {
  readonly Type?: string
  readonly Action?: string
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Readonly<Record<string, string>> }
}

/**
 * Events that can change a reused answer (pure). A volume's mount and unmount (every container start and stop that
 * uses it) change neither its inspect nor the list of volumes.
 */
export const invalidates = (e: EngineEvent) =>
  (e.Type === "volume" && e.Action !== "mount" && e.Action !== "unmount") ||
  e.Type === "image" ||
  (e.Type === "container" && e.Actor?.Attributes?.[LABEL.managed] === "true")

/**
 * Whether event `e` can change the answer kept under `key` (pure; `e` already passed `invalidates`). The key's first
 * word says what it is: the engine's `info` (its kernel and limits: changed only by an engine restart, which ends the
 * event stream), an `image:` or `volume(s):` (only events of that type), a `parent:NAME` (only events of the container
 * of that name), `containers:HOME:INSTANCE` (events of that owner's containers), ChromaDB's `heartbeat:` and
 * `chroma-version:` (events of a parent container); anything else, any relevant event. `kept`, the value kept under
 * the key when known: the engine reports a `create` of every named volume a new container mounts, existing or not,
 * which changes neither a volume found nor a list that has it (each spawn made the next one inspect its volume anew).
 */
export const affects = (key: string, e: EngineEvent, kept?: unknown) => {
  const kind = key.slice(0, key.indexOf(":") < 0 ? key.length : key.indexOf(":"))
  switch (kind) {
    case "info":
      return false
    case "image":
      return e.Type === "image"
    case "volume":
      return e.Type === "volume" && (e.Actor?.ID === undefined || e.Actor.ID === key.slice(kind.length + 1)) && !(e.Action === "create" && isSome(kept))
    case "volumes":
      return e.Type === "volume" && !(e.Action === "create" && Array.isArray(kept) && kept.some((v) => (v as { Name?: string }).Name === e.Actor?.ID))
    case "parent":
      return e.Type === "container" && e.Actor?.Attributes?.name === key.slice(kind.length + 1)
    case "containers": {
      // containers:HOME:INSTANCE, the containers of one owner: only their events
      const [home, instance] = key.slice(kind.length + 1).split(":")
      return e.Type === "container" && e.Actor?.Attributes?.[LABEL.home] === home && e.Actor?.Attributes?.[LABEL.instance] === instance
    }
    case "heartbeat":
    case "chroma-version":
      // ChromaDB's answers change with a parent container (any owner's: the port is in the key, not the owner)
      return e.Type === "container" && e.Actor?.Attributes?.[LABEL.role] === "parent"
    default:
      return true
  }
}

const isSome = (v: unknown) => Option.isOption(v) && Option.isSome(v)

/** Kept-fresh entries are refreshed this long after they were last asked for, then left to expire. */
export const KEEP_WARM_MS = 10 * 60_000

interface Entry {
  readonly value: unknown
  readonly at: number
}

interface Warm {
  readonly address: string
  readonly compute: Effect.Effect<unknown>
  readonly maxAgeMs: number
  usedAt: number
}

/**
 * A cache that forgets on each relevant event what that event can change (`affects`), and holds nothing while the
 * events are not followed. `generation` counts the times it forgot everything (the events' stream began or ended).
 */
export const makeCache = (address: string, now: () => number = Date.now) => {
  let generation = 0
  let following = false
  const entries = new Map<string, Entry>()
  const warm = new Map<string, Warm>()
  /** Values being computed, by key: an event that affects one while it is asked spoils it (it is not kept). */
  const inFlight = new Set<{ readonly key: string; spoiled: boolean }>()
  const forget = (e?: EngineEvent) => {
    if (e === undefined) generation++
    for (const [key, entry] of [...entries]) if (e === undefined || affects(key, e, entry.value)) entries.delete(key)
    for (const f of inFlight) if (e === undefined || affects(f.key, e)) f.spoiled = true
  }
  /** Run `compute` and keep its value, unless an event arrived meanwhile. */
  const store = <A, E, R>(key: string, compute: Effect.Effect<A, E, R>) => {
    const asked = { key, spoiled: false }
    return Effect.suspend(() => {
      inFlight.add(asked)
      return compute.pipe(
        Effect.tap((value) => Effect.sync(() => void (asked.spoiled || entries.set(key, { value, at: now() })))),
        Effect.ensuring(Effect.sync(() => inFlight.delete(asked)))
      )
    })
  }
  const valid = (key: string, maxAgeMs = Infinity) => {
    const hit = entries.get(key)
    return hit !== undefined && now() - hit.at <= maxAgeMs ? hit : undefined
  }
  /**
   * A served answer that used the value kept under `key` rests on it (WarmState's Dependencies): it is reused only
   * while that very entry is still kept (no event forgot it, no refresh replaced it) and `check` holds. A value that
   * was not kept (asked while the events were not followed, or spoiled by an event) makes the answer not reusable.
   */
  const track = (key: string | undefined, check?: (entry: Entry) => boolean) =>
    Effect.flatMap(FiberRef.get(currentDependencies), (d) =>
      Effect.sync(() => {
        if (d === undefined) return
        const entry = key === undefined ? undefined : entries.get(key)
        if (!following || entry === undefined) d.reusable = false
        else d.checks.push(() => entries.get(key!) === entry && (check === undefined || check(entry)))
      })
    )
  const cache: WarmCache = {
    cached: (at, key, compute, stillTrue) =>
      Effect.suspend(() => {
        type A = Effect.Effect.Success<typeof compute>
        const tracked = (a: A) => track(key, stillTrue === undefined ? undefined : () => stillTrue(a))
        // a failed call is no answer to keep: the next request asks again
        if (!following || at !== address) return compute.pipe(Effect.tap(() => track(undefined)), Effect.tapErrorCause(() => notReusable))
        const hit = valid(key)
        return hit !== undefined && (stillTrue === undefined || stillTrue(hit.value as A))
          ? Effect.tap(Effect.succeed(hit.value as A), tracked)
          : store(key, compute).pipe(Effect.tap(tracked), Effect.tapErrorCause(() => notReusable))
      }),
    fresh: <A>(at: string, key: string, maxAgeMs: number, compute: Effect.Effect<A>) =>
      Effect.suspend(() => {
        if (!following || at !== address) return Effect.tap(compute, () => track(undefined))
        warm.set(key, { address: at, compute, maxAgeMs, usedAt: now() })
        const hit = valid(key, maxAgeMs)
        return Effect.tap(hit !== undefined ? Effect.succeed(hit.value as A) : store(key, compute), () =>
          track(key, (entry) => now() - entry.at <= maxAgeMs)
        )
      }),
    forget: (at, key) => {
      if (at !== address) return
      entries.delete(key)
      for (const f of inFlight) if (f.key === key) f.spoiled = true
    },
    generation: () => generation
  }
  /** Recompute the kept-fresh entries that are half their age or older; forget those nobody asked for lately. */
  const refresh = Effect.suspend(() => {
    const due: Array<Effect.Effect<unknown>> = []
    for (const [key, w] of warm) {
      if (now() - w.usedAt > KEEP_WARM_MS) warm.delete(key)
      else if (following && valid(key, w.maxAgeMs / 2) === undefined) due.push(store(key, w.compute))
    }
    return Effect.all(due, { concurrency: "unbounded", discard: true })
  })
  return {
    cache,
    refresh,
    onEvent: (e: EngineEvent) => {
      if (invalidates(e)) forget(e)
    },
    setFollowing: (on: boolean) => {
      following = on
      forget()
    }
  }
}

/** Follow the engine's events until the stream ends or fails (then fail); `onUp` once the engine answered. */
const followOnce = (address: EngineAddress, onUp: () => void, onEvent: (e: EngineEvent) => void) =>
  Effect.async<never, Error>((resume, signal) => {
    let pending = ""
    let refused: Error | undefined
    const filters = JSON.stringify({ type: ["container", "volume", "image"] })
    engineStream(address, { method: "GET", path: "/events", query: { filters } }, signal, {
      status: (code) => {
        if (code === 200) onUp()
        else refused = new Error(`the engine answered ${code} to /events`)
        return code === 200
      },
      text: (piece) => {
        pending += piece
        for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
          const line = pending.slice(0, nl).trim()
          pending = pending.slice(nl + 1)
          if (line === "") continue
          try {
            onEvent(JSON.parse(line) as EngineEvent)
          } catch {
            // not an event: ignore it
          }
        }
      }
    }).then(
      () => resume(Effect.fail(refused ?? new Error("the engine's event stream ended"))),
      (e: unknown) => resume(Effect.fail(e instanceof ConnectFailure ? new Error(e.reason) : e instanceof Error ? e : new Error(String(e))))
    )
  })

/** How often kept-fresh entries are looked at (an entry is recomputed when it is half its maximum age). */
const REFRESH_EVERY_MS = 500

/** The warm state for the engine at `address`, following its events for as long as the enclosing scope lives. */
export const warmState = (address: EngineAddress) =>
  Effect.gen(function* () {
    const c = makeCache(address.display)
    const follow = followOnce(address, () => c.setFollowing(true), c.onEvent).pipe(
      Effect.tapError((e) => Effect.logDebug(`not following the engine's events: ${e.message}; retrying in 1 s`)),
      Effect.ensuring(Effect.sync(() => c.setFollowing(false))),
      Effect.retry(Schedule.spaced("1 second"))
    )
    yield* Effect.forkScoped(follow)
    yield* Effect.forkScoped(Effect.repeat(c.refresh, Schedule.spaced(`${REFRESH_EVERY_MS} millis`)))
    return c.cache
  })
