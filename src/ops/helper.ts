/**
 * Short-lived helper containers (labelled `helper`) that read or write volumes with the parent image's tar: the
 * volumes live in the engine, so their files are reached from a container, never from the host's engine directory.
 */
import { Effect, Option } from "effect"
import { Settings } from "../config/Settings.ts"
import { HelperFailed } from "../domain/errors.ts"
import { type Owner, ownerLabels } from "../domain/labels.ts"
import { Engine, type EngineShape } from "../docker/Engine.ts"
import { ownerOf } from "../state/home.ts"
import { VERSION } from "../version.ts"

export interface HelperMount {
  readonly type: "volume" | "bind"
  readonly source: string
  readonly target: string
  readonly readOnly: boolean
}

export const runHelper = (task: string, script: string, mounts: ReadonlyArray<HelperMount>) =>
  Effect.gen(function* () {
    const engine = yield* Engine
    const { settings } = yield* Settings
    return yield* runHelperWith(engine, { owner: ownerOf(settings), image: settings.parentImage }, task, script, mounts)
  })

/** A helper in any image with a shell (the worker image for the Claude home: the parent image may be absent). */
/**
 * Steps on the helper's container itself, for an engine whose host is not this one (a swarm node): copy a file in
 * before it starts, copy its result out after it succeeded (before it is removed).
 */
export interface HelperHooks {
  readonly beforeStart?: (id: string) => Effect.Effect<void, HelperFailed>
  readonly afterExit?: (id: string) => Effect.Effect<void, HelperFailed>
}

export const runHelperWith = (
  engine: EngineShape,
  on: { readonly owner: Owner; readonly image: string; readonly user?: string; readonly env?: ReadonlyArray<string> },
  task: string,
  script: string,
  mounts: ReadonlyArray<HelperMount>,
  hooks: HelperHooks = {}
) =>
  Effect.gen(function* () {
    const body = {
      Image: on.image,
      Entrypoint: ["/bin/sh", "-c"],
      Cmd: [script],
      User: on.user ?? "0:0",
      Env: [...(on.env ?? [])],
      Labels: ownerLabels(on.owner, "helper", VERSION),
      HostConfig: {
        NetworkMode: "none",
        Mounts: mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly }))
      }
    }
    // Created uninterruptibly and removed however this ends (done, failed, Ctrl-C or SIGTERM): none is left behind.
    const { Id } = yield* Effect.acquireRelease(
      engine.createContainer(`${on.owner.instance}-helper-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`, body),
      ({ Id }) => engine.removeContainer(Id, { force: true }).pipe(Effect.ignore)
    )
    if (hooks.beforeStart) yield* hooks.beforeStart(Id)
    yield* engine.startContainer(Id)
    const code = yield* engine.waitContainer(Id)
    const output = yield* engine.containerLogs(Id, 200)
    if (code !== 0) return yield* new HelperFailed({ task, code, output })
    if (hooks.afterExit) yield* hooks.afterExit(Id)
    return output
  }).pipe(Effect.scoped)

export const imagePresent = Effect.gen(function* () {
  const engine = yield* Engine
  const { settings } = yield* Settings
  return Option.isSome(yield* engine.inspectImage(settings.parentImage))
})
