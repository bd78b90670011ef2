/**
 * The single wiring point of claudy's services. Settings come first (validated before any Docker call),
 * then the Engine built from them, then the services above it.
 */
import { Effect, Layer } from "effect"
import { parseSetFlags } from "./common.ts"
import { Settings } from "../config/Settings.ts"
import { Parent } from "../daemon/Parent.ts"
import { Engine } from "../docker/Engine.ts"
import { Images } from "../images/Images.ts"
import { Pool } from "../pool/Pool.ts"
import { Sessions } from "../sessions/Sessions.ts"
import { Spawner } from "../spawn/Spawner.ts"

export const servicesLayer = (flags: Readonly<Record<string, string>>) => {
  const settings = Settings.layer(flags)
  const engine = Engine.layer.pipe(Layer.provideMerge(settings))
  const images = Images.layer.pipe(Layer.provideMerge(engine))
  const sessions = Sessions.layer.pipe(Layer.provideMerge(images))
  const pool = Pool.layer.pipe(Layer.provideMerge(sessions))
  return Layer.mergeAll(Parent.layer, Spawner.layer).pipe(Layer.provideMerge(pool))
}

export type Services = Layer.Layer.Success<ReturnType<typeof servicesLayer>>

/** Run a command body with every service, settings overridden by `--set` flags. */
export const withServices =
  (flags: Readonly<Record<string, string>>) =>
  <A, E, R>(body: Effect.Effect<A, E, R>) =>
    Effect.provide(body, servicesLayer(flags))

/** Run a command body with every service, after parsing its `--set NAME=VALUE` flags. */
export const withSet = <A, E, R>(set: ReadonlyArray<string>, body: Effect.Effect<A, E, R>) =>
  Effect.flatMap(parseSetFlags(set), (flags) => withServices(flags)(body))
