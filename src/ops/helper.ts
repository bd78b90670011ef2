/**
 * Short-lived helper containers (labelled `helper`) that read or write volumes with the parent image's tar: the
 * volumes live in the engine, so their files are reached from a container, never from the host's engine directory.
 */
import { Effect, Option } from "effect"
import { Settings } from "../config/Settings.ts"
import { HelperFailed } from "../domain/errors.ts"
import { ownerLabels } from "../domain/labels.ts"
import { Engine } from "../docker/Engine.ts"
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
    const body = {
      Image: settings.parentImage,
      Entrypoint: ["/bin/sh", "-c"],
      Cmd: [script],
      User: "0:0",
      Labels: ownerLabels(ownerOf(settings), "helper", VERSION),
      HostConfig: {
        NetworkMode: "none",
        Mounts: mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly }))
      }
    }
    // Created uninterruptibly and removed however this ends (done, failed, Ctrl-C or SIGTERM): none is left behind.
    const { Id } = yield* Effect.acquireRelease(
      engine.createContainer(`${settings.instance}-helper-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`, body),
      ({ Id }) => engine.removeContainer(Id, { force: true }).pipe(Effect.ignore)
    )
    yield* engine.startContainer(Id)
    const code = yield* engine.waitContainer(Id)
    if (code !== 0) return yield* new HelperFailed({ task, code, output: yield* engine.containerLogs(Id, 20) })
  }).pipe(Effect.scoped)

export const imagePresent = Effect.gen(function* () {
  const engine = yield* Engine
  const { settings } = yield* Settings
  return Option.isSome(yield* engine.inspectImage(settings.parentImage))
})
