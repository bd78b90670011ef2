/**
 * What the control server keeps warm between requests, as a service a command may find in its context (only when the
 * server runs it; in a command's own process there is none and everything is asked anew). Kept apart from its
 * implementation (engineEvents.ts) so the commands that look for it load nothing more.
 */
import { Context, Effect, FiberRef, Option } from "effect"
import { statSync } from "node:fs"

export interface WarmCache {
  /**
   * `compute`'s value for `key`, reused until the engine at `address` reports a change (an event of a claudy
   * container, or of any volume or image); computed anew whenever the server is not following that engine's events.
   */
  readonly cached: <A, E, R>(
    address: string,
    key: string,
    compute: Effect.Effect<A, E, R>,
    /** checked on every reuse: false asks again (e.g. the process of a container kept as running is gone) */
    stillTrue?: (a: A) => boolean
  ) => Effect.Effect<A, E, R>
  /**
   * `compute`'s value for `key` if it is at most `maxAgeMs` old (and no event came since, as for `cached`). Once asked,
   * the server keeps it that fresh in the background for a while, so the next asker finds it ready.
   */
  readonly fresh: <A>(address: string, key: string, maxAgeMs: number, compute: Effect.Effect<A>) => Effect.Effect<A>
  /**
   * Forget what is kept under `key` now: a command of this server changed it (a spawn created a worker) and the next
   * request must see that even before the engine's event arrives.
   */
  readonly forget: (address: string, key: string) => void
  /** Counts the times everything was forgotten (following the events began or ended): equal counts, none since. */
  readonly generation: () => number
}

export class WarmState extends Context.Tag("claudy/WarmState")<WarmState, WarmCache>() {}

/**
 * What one served command's answer rests on besides the engine's events: the checks that must still hold for the
 * same command to print the same thing (a process still alive, a file unchanged, the uptime still the same second).
 * The server (replies.ts) reuses a whole answer only while they hold; `reusable` false: never reuse it.
 */
export interface Dependencies {
  reusable: boolean
  readonly checks: Array<() => boolean>
}

/** Set by the server for a request whose answer it may keep; undefined everywhere else (then dependsOn does nothing). */
export const currentDependencies = FiberRef.unsafeMake<Dependencies | undefined>(undefined)

/** The answer being computed may be reused only while `check` holds (nothing outside the control server). */
export const dependsOn = (check: () => boolean): Effect.Effect<void> =>
  Effect.flatMap(FiberRef.get(currentDependencies), (d) => Effect.sync(() => void d?.checks.push(check)))

/** The answer being computed must not be reused (it rests on something no check can see). */
export const notReusable: Effect.Effect<void> = Effect.flatMap(FiberRef.get(currentDependencies), (d) =>
  Effect.sync(() => {
    if (d !== undefined) d.reusable = false
  })
)

/** A file or directory as it is now (inode, size and modification time), to compare later; "absent" if it is not there. */
export const fileStamp = (path: string): string => {
  const st = statSync(path, { throwIfNoEntry: false })
  return st === undefined ? "absent" : `${st.ino}:${st.size}:${st.mtimeMs}`
}

/** The answer being computed rests on `path` as it is now: reused only while it is unchanged. */
export const dependsOnFile = (path: string): Effect.Effect<void> =>
  Effect.flatMap(FiberRef.get(currentDependencies), (d) =>
    Effect.sync(() => {
      if (d === undefined) return
      const then = fileStamp(path)
      d.checks.push(() => fileStamp(path) === then)
    })
  )

/** WarmCache.forget when the control server runs this command; nothing otherwise. */
export const forgetAnswer = (address: string, key: string): Effect.Effect<void> =>
  Effect.flatMap(Effect.serviceOption(WarmState), (warm) => Effect.sync(() => Option.map(warm, (w) => w.forget(address, key))))

/** The key under which the server keeps an owner's container list (daemon status, sessions list). */
export const containersKey = (owner: { readonly home: string; readonly instance: string }) => `containers:${owner.home}:${owner.instance}`

/**
 * `compute` through the control server's warm state (WarmCache.cached) when the server runs this command; asked anew
 * otherwise.
 */
export const reusedAnswer = <A, E, R>(address: string, key: string, compute: Effect.Effect<A, E, R>, stillTrue?: (a: A) => boolean) =>
  Effect.flatMap(Effect.serviceOption(WarmState), (warm) =>
    Option.isSome(warm) ? warm.value.cached(address, key, compute, stillTrue) : compute
  )
