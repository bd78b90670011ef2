/**
 * `claudy reset`: remove what this claudy created, by label and HAL9000_HOME only — never by name prefix.
 * Default: stop the pool manager, remove sessions, warm workers, helpers (of a backup that was killed) and the parent;
 * keep volumes (data) and images.
 * `--volumes` also removes the data volumes (the parent's three and the Claude home; asked for explicitly with --yes),
 * `--images` the images claudy built.
 * `--force` is the emergency mode for a stuck parent: kill instead of a graceful stop.
 */
import { Effect } from "effect"
import { rmSync } from "node:fs"
import { join } from "node:path"
import { Settings } from "../config/Settings.ts"
import { LABEL, ownerFilter } from "../domain/labels.ts"
import { Engine } from "../docker/Engine.ts"
import { pidFile } from "../pool/files.ts"
import { stopManager } from "../pool/pidFile.ts"
import { hostFile, listDir } from "../state/hostFile.ts"
import { ensureHome, ownerOf } from "../state/home.ts"
import { isMarkerFile } from "../spawn/claudeHome.ts"
import { maintenance } from "./maintenance.ts"

export interface ResetOptions {
  readonly volumes: boolean
  readonly images: boolean
  readonly force: boolean
}

export interface ResetReport {
  readonly poolManagerStopped: number | null
  /** the pid of a `claudy daemon run` whose pool loop was left running (it also starts the parent again) */
  readonly supervisor: number | null
  readonly containers: ReadonlyArray<string>
  readonly volumes: ReadonlyArray<string>
  readonly images: ReadonlyArray<string>
}

export const reset = (o: ResetOptions) =>
  Effect.gen(function* () {
    const engine = yield* Engine
    const { settings } = yield* Settings
    const owner = ownerOf(settings)
    yield* engine.ping
    yield* ensureHome(settings)
    yield* maintenance(settings.home, "reset")

    // 1. The pool manager first, so it does not recreate what we remove. The pool loop of `daemon run` is never
    // stopped: that would end the supervisor (systemd restarts it only on failure); it is reported instead.
    const manager = yield* stopManager(pidFile(settings.home), o.force ? "SIGKILL" : "SIGTERM")
    const stopped = manager._tag === "stopped" || manager._tag === "stuck" ? manager.pid : null
    const supervisor = manager._tag === "supervised" ? manager.pid : null

    // 2. Containers: sessions and warm workers, then the parent (workers join its network namespace).
    const all = yield* engine.listContainers(ownerFilter(owner))
    const byRole = (role: string) => all.filter((c) => c.Labels[LABEL.role] === role)
    const removed: Array<string> = []
    const remove = (c: (typeof all)[number]) =>
      Effect.gen(function* () {
        if (!o.force && c.State === "running") yield* engine.stopContainer(c.Id, 10)
        yield* engine.removeContainer(c.Id, { force: true })
        removed.push(c.Names[0]?.replace(/^\//, "") ?? c.Id.slice(0, 12))
      })
    yield* Effect.forEach([...byRole("worker"), ...byRole("warm"), ...byRole("helper")], remove, { concurrency: 4 })
    yield* Effect.forEach(byRole("parent"), remove)

    // 3. State that described those containers.
    const state = ["sessions", "pool/workers", "pool/slots", "pool/claims"].map((d) => join(settings.home, d))
    for (const path of supervisor === null ? [...state, pidFile(settings.home)] : state) {
      yield* hostFile(path, "remove", () => rmSync(path, { recursive: true, force: true }))
    }

    // 4. Data and images only when asked.
    const volumes: Array<string> = []
    if (o.volumes) {
      for (const v of yield* engine.listVolumes(ownerFilter(owner, "volume"))) {
        yield* engine.removeVolume(v.Name)
        volumes.push(v.Name)
      }
      // whom the Claude home was given to: a volume recreated within the same second must not look prepared
      for (const name of yield* listDir(settings.home, "list the Claude home markers in")) {
        const path = join(settings.home, name)
        if (isMarkerFile(name)) yield* hostFile(path, "remove", () => rmSync(path, { force: true }))
      }
    }
    const images: Array<string> = []
    if (o.images) {
      for (const tag of [settings.parentImage, settings.workerImage]) {
        const img = yield* engine.inspectImage(tag)
        // only images claudy built carry our label; a pulled upstream image is the user's
        if (img._tag === "Some" && img.value.Config?.Labels?.[LABEL.managed] === "true") {
          yield* engine.removeImage(tag)
          images.push(tag)
        }
      }
    }
    return { poolManagerStopped: stopped, supervisor, containers: removed, volumes, images } satisfies ResetReport
  }).pipe(Effect.scoped)
