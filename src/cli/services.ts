/**
 * The single wiring point of claudy's services. Settings come first (validated before any Docker call),
 * then the Engine built from them, then the services above it.
 *
 * One context, built from each service's `make` in dependency order, rather than seven layers composed with
 * provideMerge: every command builds this once in a short-lived process, and the composed form cost ≈ 8 ms of
 * each start in scopes and memo-map bookkeeping (measured on the compiled binary: daemon status 48 -> 39 ms).
 * The services' own `layer`s stay the way to build any one of them elsewhere.
 */
import { Context, Effect } from "effect"
import { parseSetFlags } from "./common.ts"
import { Settings } from "../config/Settings.ts"
import { Parent } from "../daemon/Parent.ts"
import { Engine } from "../docker/Engine.ts"
import { Images } from "../images/Images.ts"
import { Pool } from "../pool/Pool.ts"
import { Sessions } from "../sessions/Sessions.ts"
import { Spawner } from "../spawn/Spawner.ts"

const build = (settings: Context.Context<Settings>) =>
  Effect.gen(function* () {
    const engine = Context.add(settings, Engine, yield* Effect.provide(Engine.make, settings))
    const images = Context.add(engine, Images, yield* Effect.provide(Images.make, engine))
    const sessions = Context.add(images, Sessions, yield* Effect.provide(Sessions.make, images))
    const pool = Context.add(sessions, Pool, yield* Effect.provide(Pool.make, sessions))
    const parent = Context.add(pool, Parent, yield* Effect.provide(Parent.make, pool))
    return Context.add(parent, Spawner, yield* Effect.provide(Spawner.make, pool))
  })

type Built = Effect.Effect.Success<ReturnType<typeof build>>

/**
 * The services built for one set of settings, kept for the next command with the same settings: the control server
 * runs every request in one process, and building them again cost each request ≈ 2 ms of CPU (measured). They hold
 * nothing of a request but its settings (the key: every setting's raw value, from which its value is parsed), so the
 * request's own Settings (with where each value came from) are put back in. Settings are still resolved each time
 * (the environment, --set, the kept file).
 */
const built = new Map<string, Built>()
const KEEP_BUILT = 8

const servicesContext = (flags: Readonly<Record<string, string>>) =>
  Effect.gen(function* () {
    const resolved = yield* Settings.load(flags)
    const key = JSON.stringify(resolved.sources.map((s) => s.raw))
    const settings = Context.make(Settings, resolved)
    const kept = built.get(key)
    if (kept !== undefined) return Context.merge(kept, settings)
    const services = yield* build(settings)
    if (built.size >= KEEP_BUILT) built.delete(built.keys().next().value!)
    built.set(key, services)
    return services
  })

export type Services = Effect.Effect.Success<ReturnType<typeof servicesContext>> extends Context.Context<infer S> ? S : never

/**
 * Run a command body with every service, settings overridden by `--set` flags. The context is provided as such, not
 * through a Layer: nothing in it needs a scope, and a layer's build (its scope and memo map) cost each served spawn
 * ≈ 0.3 ms before its first engine call (measured).
 */
export const withServices =
  (flags: Readonly<Record<string, string>>) =>
  <A, E, R>(body: Effect.Effect<A, E, R>) =>
    Effect.flatMap(servicesContext(flags), (services) => Effect.provide(body, services))

/** Run a command body with every service, after parsing its `--set NAME=VALUE` flags. */
export const withSet = <A, E, R>(set: ReadonlyArray<string>, body: Effect.Effect<A, E, R>) =>
  Effect.flatMap(parseSetFlags(set), (flags) => withServices(flags)(body))
