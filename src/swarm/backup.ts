/**
 * Backup and restore on a swarm: the same backups as on one host (src/ops/backup.ts: one tar.gz per volume, home.tar.gz,
 * checksums, manifest). The parent's volumes live on the node
 * labelled as holding them; they are read and written by a helper container on that node's engine, and the archive
 * crosses between the node and this host through the engine's archive endpoint (docker cp), so nothing assumes the
 * node shares this host's file system (the lab's nodes do; real ones do not). HAL9000_HOME is on this host: archived
 * here with tar.
 */
import { spawn } from "node:child_process"
import { Effect, Option } from "effect"
import { Settings } from "../config/Settings.ts"
import { BackupInvalid, HelperFailed } from "../domain/errors.ts"
import { ownerLabels, ownershipOf } from "../domain/labels.ts"
import { DATA_VOLUME_ROLES, volumeName } from "../domain/names.ts"
import type { EngineShape } from "../docker/Engine.ts"
import { loadDockerode } from "../docker/dockerode.ts"
import { backupAt, type BackupSite, restoreAt } from "../ops/backup.ts"
import { runHelperWith } from "../ops/helper.ts"
import { ownerOf } from "../state/home.ts"
import { VERSION } from "../version.ts"
import { Cluster } from "./Cluster.ts"
import { withSwarmParent } from "./parentCommands.ts"
import { SwarmParent } from "./parentService.ts"

/** Where the helper keeps an archive inside its own container (its writable layer, gone with it). */
const INSIDE = "/tmp/claudy-backup"

/** Run this host's tar; `input` is piped to its stdin; its stdout is handed to `use` while it runs. */
const hostTar = (task: string, args: ReadonlyArray<string>, io: { input?: NodeJS.ReadableStream; use?: (out: NodeJS.ReadableStream) => Promise<unknown> } = {}) =>
  Effect.tryPromise({
    try: () =>
      new Promise<void>((resolve, reject) => {
        const p = spawn("tar", [...args], { stdio: [io.input ? "pipe" : "ignore", io.use ? "pipe" : "ignore", "pipe"] })
        let stderr = ""
        p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
        if (io.input) io.input.pipe(p.stdin!)
        const used = io.use ? io.use(p.stdout!) : Promise.resolve()
        p.on("error", reject)
        p.on("close", (code) => {
          if (code !== 0) reject(new Error(`tar exited ${code}: ${stderr.trim()}`))
          else used.then(() => resolve(), reject)
        })
      }),
    catch: (e) => new HelperFailed({ task, code: -1, output: e instanceof Error ? e.message : String(e) })
  })

/** Copy `file` out of the helper's container into `dir` on this host. */
const copyOut = (engine: EngineShape, task: string, id: string, file: string, dir: string) =>
  Effect.flatMap(
    Effect.tryPromise({
      try: async () => (await (await loadDockerode(engine.address)).getContainer(id).getArchive({ path: `${INSIDE}/${file}` })) as NodeJS.ReadableStream,
      catch: (e) => new HelperFailed({ task, code: -1, output: `copying ${file} out of the helper: ${e instanceof Error ? e.message : String(e)}` })
    }),
    (stream) => hostTar(task, ["-x", "-C", dir, "-f", "-"], { input: stream })
  )

/** Copy `dir/file` into the helper's container (at INSIDE) before it starts. */
const copyIn = (engine: EngineShape, task: string, id: string, dir: string, file: string) =>
  hostTar(task, ["-c", "-C", dir, "--transform", `s,^,${INSIDE.slice(1)}/,`, "-f", "-", file], {
    use: async (out) => {
      const docker = await loadDockerode(engine.address)
      await docker.getContainer(id).putArchive(out, { path: "/" })
    }
  })

export const swarmSite = Effect.gen(function* () {
  const cluster = yield* Cluster
  const parent = yield* SwarmParent
  const { settings } = yield* Settings
  const owner = ownerOf(settings)
  const helperOn = { owner, image: settings.parentImage }

  /** The engine of the node holding the volumes, if one is labelled (backup changes nothing, so labels none). */
  const labelledEngine = Effect.flatMap(parent.labelledHolder, (node) =>
    Option.match(node, { onNone: () => Effect.succeed(Option.none<EngineShape>()), onSome: (n) => Effect.map(cluster.engineOf(n), Option.some) })
  )
  /** Restore puts the volumes where the parent will run: the labelled node, or the manager's (labelled now). */
  const holderEngine = Effect.flatMap(parent.holderNode, cluster.engineOf)
  const ownedOn = (engine: EngineShape, volume: string) =>
    Effect.map(engine.inspectVolume(volume), (found) => Option.isSome(found) && ownershipOf(found.value.Labels, owner) === "ours")

  const site: BackupSite<Settings> = {
    refuse: () => Effect.void,
    reachable: Effect.asVoid(cluster.requireManager),
    parentRunning: Effect.map(parent.status, (s) => s.state === "running"),
    stopParent: parent.stop,
    startParent: Effect.map(parent.start({ recreate: false }), (r) => r.url),
    ownedVolumes: Effect.flatMap(labelledEngine, (engine) =>
      Option.isNone(engine)
        ? Effect.succeed([])
        : Effect.filter(DATA_VOLUME_ROLES.map((role) => ({ role, volume: volumeName(settings.instance, role) })), (v) => ownedOn(engine.value, v.volume))
    ),
    archiveVolume: (volume, dir, file) =>
      Effect.gen(function* () {
        const engine = Option.getOrThrow(yield* labelledEngine)
        const task = `archiving volume ${volume} on ${engine.address.display}`
        yield* runHelperWith(engine, helperOn, task, `mkdir -p ${INSIDE} && tar czf ${INSIDE}/${file} -C /source .`, [
          { type: "volume", source: volume, target: "/source", readOnly: true }
        ], { afterExit: (id) => copyOut(engine, task, id, file, dir) })
      }),
    archiveHome: (dir, file, excludes) =>
      hostTar("archiving HAL9000_HOME", ["czf", `${dir}/${file}`, ...excludes.map((x) => `--exclude=${x}`), "-C", settings.home, "."]),
    checkVolumes: (dir, volumes) =>
      Effect.flatMap(labelledEngine, (engine) =>
        Option.isNone(engine)
          ? Effect.void
          : Effect.forEach(volumes, (vname) =>
              Effect.flatMap(engine.value.inspectVolume(vname), (found) =>
                Option.isSome(found) && ownershipOf(found.value.Labels, owner) !== "ours"
                  ? Effect.fail(new BackupInvalid({ path: dir, problem: `volume ${vname} on ${engine.value.address.display} exists but is not this claudy's` }))
                  : Effect.void
              )
            ).pipe(Effect.asVoid)
      ),
    restoreVolume: (volume, dir, file) =>
      Effect.gen(function* () {
        const engine = yield* holderEngine
        if (Option.isNone(yield* engine.inspectVolume(volume))) yield* engine.createVolume(volume, ownerLabels(owner, "volume", VERSION))
        const task = `restoring volume ${volume} on ${engine.address.display}`
        yield* runHelperWith(engine, helperOn, task, `find /target -mindepth 1 -delete && tar xzf ${INSIDE}/${file} -C /target`, [
          { type: "volume", source: volume, target: "/target", readOnly: false }
        ], { beforeStart: (id) => copyIn(engine, task, id, dir, file) })
      }),
    restoreHome: (dir, file) => hostTar("restoring HAL9000_HOME", ["xzf", `${dir}/${file}`, "-C", settings.home])
  }
  return site
})

export const swarmBackup = (destRoot?: string) => withSwarmParent(Effect.flatMap(swarmSite, (site) => backupAt(site, destRoot)))
export const swarmRestore = (path: string) => withSwarmParent(Effect.flatMap(swarmSite, (site) => restoreAt(site, path)))
