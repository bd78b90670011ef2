/**
 * What the control server keeps warm between requests, as a service a command may find in its context (only when the
 * server runs it; in a command's own process there is none and everything is asked anew). Kept apart from its
 * implementation (engineEvents.ts) so the commands that look for it load nothing more.
 */
import { Context, type Effect } from "effect"

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
}

export class WarmState extends Context.Tag("claudy/WarmState")<WarmState, WarmCache>() {}
