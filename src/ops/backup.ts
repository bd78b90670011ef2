/**
 * Backup and restore of the data volumes (the parent's three and the Claude home) and HAL9000_HOME's state (the guide's rollback-dind.sh, as verbs).
 * A backup is a directory `<home>-backup-YYYYMMDD-HHMMSS` with one tar.gz per volume, `home.tar.gz`, a manifest with
 * sha256 sums and a SHA256SUMS file. Backup stops the parent while it archives (ChromaDB's files are then at rest)
 * and starts it again. Restore verifies every checksum before it touches anything.
 */
import { Console, Effect, Either, Exit, Option, Schema } from "effect"
import { createHash } from "node:crypto"
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { Settings } from "../config/Settings.ts"
import { Parent } from "../daemon/Parent.ts"
import { BackupInvalid, type ClaudyError, type StateError } from "../domain/errors.ts"
import { ownerLabels, ownershipOf } from "../domain/labels.ts"
import { DATA_VOLUME_ROLES, type DataVolumeRole, parentName, volumeName } from "../domain/names.ts"
import { Engine } from "../docker/Engine.ts"
import { requireLocalEngine } from "../docker/localEngine.ts"
import { fsError, hostFile, listDir } from "../state/hostFile.ts"
import { ensureHome, ownerOf } from "../state/home.ts"
import { VERSION } from "../version.ts"
import { runHelper } from "./helper.ts"
import { maintenance } from "./maintenance.ts"

/** Only the names backup writes: they are used in the helper's shell command, so nothing else is accepted. */
const FileName = Schema.String.pipe(Schema.pattern(/^[a-z][a-z-]*\.tar\.gz$/))
const Entry = Schema.Struct({ file: FileName, sha256: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/)), bytes: Schema.Number })
export const Manifest = Schema.Struct({
  format: Schema.Literal(1),
  created_at: Schema.String,
  claudy_version: Schema.String,
  instance: Schema.String,
  home: Schema.String,
  volumes: Schema.Array(Schema.extend(Entry, Schema.Struct({ role: Schema.Literal(...DATA_VOLUME_ROLES), volume: Schema.String }))),
  home_state: Entry
})
export type Manifest = typeof Manifest.Type

const sha256File = (path: string) =>
  Effect.async<string, StateError>((resume) => {
    const h = createHash("sha256")
    createReadStream(path)
      .on("data", (d) => h.update(d))
      .on("end", () => resume(Effect.succeed(h.digest("hex"))))
      .on("error", (e) => resume(Effect.fail(fsError(path, "read")(e))))
  })

const sizeOf = (file: string) => hostFile(file, "read the size of", () => statSync(file).size)

/** YYYYMMDD-HHMMSS (UTC), for backup and debug-bundle names. */
export const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15)

export const defaultBackupRoot = (home: string) => dirname(home)
export const backupPrefix = (home: string) => `${basename(home)}-backup-`

/**
 * What home.tar.gz leaves out: runtime files (slots with their FIFOs and API keys, claims, the pool mirror, locks) and
 * the API key file (secrets/): a backup is not a place for a key the user can set again.
 */
export const HOME_EXCLUDES = ["./secrets", "./pool/slots", "./pool/claims", "./pool/workers", "./pool/pool-manager.pid", "./maintenance", "./sessions/.*.spawning"]

/**
 * Where a backup's pieces come from and go back to: the engine on this host (`localSite`, below) or a swarm, where
 * the parent's volumes live on one node (src/swarm/backup.ts). Backup and restore themselves are the same for both:
 * the directory, the maintenance lock, stopping the parent while its files are archived, the checksums, the manifest.
 */
export interface BackupSite<R> {
  /** Refuse early what this site cannot do (before a directory is made or the parent stopped). */
  readonly refuse: (what: "backup" | "restore") => Effect.Effect<void, ClaudyError, R>
  /** The engine (or swarm) answers. */
  readonly reachable: Effect.Effect<void, ClaudyError, R>
  readonly parentRunning: Effect.Effect<boolean, ClaudyError, R>
  readonly stopParent: Effect.Effect<unknown, ClaudyError, R>
  /** Start the parent again; where ChromaDB answers then. */
  readonly startParent: Effect.Effect<string, ClaudyError, R>
  /** This instance's data volumes that exist and are ours, in DATA_VOLUME_ROLES order. */
  readonly ownedVolumes: Effect.Effect<ReadonlyArray<{ readonly role: DataVolumeRole; readonly volume: string }>, ClaudyError, R>
  /** Write `dir/file`: a tar.gz of the volume's files (paths relative to its root). */
  readonly archiveVolume: (volume: string, dir: string, file: string) => Effect.Effect<void, ClaudyError, R>
  /** Write `dir/file`: a tar.gz of HAL9000_HOME without `excludes`. */
  readonly archiveHome: (dir: string, file: string, excludes: ReadonlyArray<string>) => Effect.Effect<void, ClaudyError, R>
  /** Fail (BackupInvalid) if one of these volumes exists and is not this claudy's: checked before anything changes. */
  readonly checkVolumes: (dir: string, volumes: ReadonlyArray<string>) => Effect.Effect<void, ClaudyError, R>
  /** Replace the volume's files (created, labelled, when missing) with those of `dir/file`. */
  readonly restoreVolume: (volume: string, dir: string, file: string) => Effect.Effect<void, ClaudyError, R>
  readonly restoreHome: (dir: string, file: string) => Effect.Effect<void, ClaudyError, R>
}

/** The parent container and its volumes on this host's engine, reached by helper containers of the parent image. */
export const localSite = Effect.gen(function* () {
  const engine = yield* Engine
  const parent = yield* Parent
  const { settings } = yield* Settings
  const owner = ownerOf(settings)
  const site: BackupSite<Engine | Settings> = {
    refuse: (what) => requireLocalEngine(engine.address, what),
    reachable: engine.ping,
    parentRunning: Effect.map(parent.status, (s) => s.state === "running"),
    stopParent: parent.stop,
    startParent: Effect.map(parent.start({ recreate: false }), (r) => `http://127.0.0.1:${r.port}`),
    ownedVolumes: Effect.filter(
      DATA_VOLUME_ROLES.map((role) => ({ role, volume: volumeName(settings.instance, role) })),
      (v) => Effect.map(engine.inspectVolume(v.volume), (found) => Option.isSome(found) && ownershipOf(found.value.Labels, owner) === "ours")
    ),
    archiveVolume: (volume, dir, file) =>
      runHelper(`archiving volume ${volume}`, `tar czf /backup/${file} -C /source .`, [
        { type: "volume", source: volume, target: "/source", readOnly: true },
        { type: "bind", source: dir, target: "/backup", readOnly: false }
      ]).pipe(Effect.asVoid),
    archiveHome: (dir, file, excludes) =>
      runHelper("archiving HAL9000_HOME", `tar czf /backup/${file} ${excludes.map((x) => `--exclude=${x}`).join(" ")} -C /home-state .`, [
        { type: "bind", source: settings.home, target: "/home-state", readOnly: true },
        { type: "bind", source: dir, target: "/backup", readOnly: false }
      ]).pipe(Effect.asVoid),
    checkVolumes: (dir, volumes) =>
      Effect.forEach(volumes, (vname) =>
        Effect.flatMap(engine.inspectVolume(vname), (found) =>
          Option.isSome(found) && ownershipOf(found.value.Labels, owner) !== "ours"
            ? Effect.fail(new BackupInvalid({ path: dir, problem: `volume ${vname} exists but is not this claudy's` }))
            : Effect.void
        )
      ).pipe(Effect.asVoid),
    restoreVolume: (volume, dir, file) =>
      Effect.gen(function* () {
        if (Option.isNone(yield* engine.inspectVolume(volume))) yield* engine.createVolume(volume, ownerLabels(owner, "volume", VERSION))
        yield* runHelper(`restoring volume ${volume}`, `find /target -mindepth 1 -delete && tar xzf /backup/${file} -C /target`, [
          { type: "volume", source: volume, target: "/target", readOnly: false },
          { type: "bind", source: dir, target: "/backup", readOnly: true }
        ])
      }),
    restoreHome: (dir, file) =>
      runHelper("restoring HAL9000_HOME", `tar xzf /backup/${file} -C /home-state`, [
        { type: "bind", source: settings.home, target: "/home-state", readOnly: false },
        { type: "bind", source: dir, target: "/backup", readOnly: true }
      ]).pipe(Effect.asVoid)
  }
  return site
})

export const backupAt = <R>(site: BackupSite<R>, destRoot?: string) =>
  Effect.gen(function* () {
    const { settings } = yield* Settings
    yield* site.refuse("backup")
    yield* site.reachable
    const root = resolve(destRoot ?? defaultBackupRoot(settings.home))
    const dir = join(root, `${backupPrefix(settings.home)}${stamp(new Date())}`)
    yield* Effect.try({
      try: () => {
        // a --dest that does not exist yet is created private, like the backups in it (they hold API keys' files)
        mkdirSync(root, { recursive: true, mode: 0o700 })
        mkdirSync(dir, { mode: 0o700 })
      },
      catch: fsError(dir, "create backup directory")
    })
    yield* ensureHome(settings)
    yield* maintenance(settings.home, "backup")
    const wasRunning = yield* site.parentRunning
    const archive = Effect.gen(function* () {
      if (wasRunning) yield* site.stopParent
      const volumes: Array<Manifest["volumes"][number]> = []
      for (const { role, volume } of yield* site.ownedVolumes) {
        const file = `${role}.tar.gz`
        yield* site.archiveVolume(volume, dir, file)
        volumes.push({ role, volume, file, sha256: yield* sha256File(join(dir, file)), bytes: yield* sizeOf(join(dir, file)) })
      }
      yield* site.archiveHome(dir, "home.tar.gz", HOME_EXCLUDES)
      const home_state = { file: "home.tar.gz", sha256: yield* sha256File(join(dir, "home.tar.gz")), bytes: yield* sizeOf(join(dir, "home.tar.gz")) }
      const manifest: Manifest = {
        format: 1,
        created_at: new Date().toISOString(),
        claudy_version: VERSION,
        instance: settings.instance,
        home: settings.home,
        volumes,
        home_state
      }
      yield* hostFile(dir, "write the manifest into", () => {
        writeFileSync(join(dir, "SHA256SUMS"), [...volumes, home_state].map((e) => `${e.sha256}  ${e.file}\n`).join(""))
        // written last: a backup without a manifest is partial and is refused by restore
        writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2))
      })
      return { dir, manifest }
    })
    // Archiving failed or was interrupted (Ctrl-C, `timeout`): the partial directory goes (it would only be listed as
    // incomplete), the parent is started again as best we can, and the archiving error or the interrupt is reported.
    const result = yield* archive.pipe(
      Effect.onExit((exit) =>
        Exit.isSuccess(exit)
          ? Effect.void
          : Effect.all([
              Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
              wasRunning ? site.startParent : Effect.void,
              Exit.isInterrupted(exit) ? Console.error(`Backup interrupted: nothing kept (${dir} removed)`) : Effect.void
            ], { mode: "either" })
      )
    )
    // The backup is written; a parent that does not come back is an error the user must see (exit non-zero).
    if (wasRunning) yield* site.startParent
    return result
  }).pipe(Effect.scoped)

export const backup = (destRoot?: string) => Effect.flatMap(localSite, (site) => backupAt(site, destRoot))

/** Read and verify a backup (pure checks + checksums); nothing is changed. */
export const verifyBackup = (path: string) =>
  Effect.gen(function* () {
    const dir = resolve(path)
    const fail = (problem: string) => Effect.fail(new BackupInvalid({ path: dir, problem }))
    if (!existsSync(join(dir, "manifest.json"))) return yield* fail("it has no manifest.json (not a claudy backup, or a partial one)")
    const parsed = yield* Effect.try({
      try: () => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as unknown,
      catch: () => new BackupInvalid({ path: dir, problem: "manifest.json is not valid JSON" })
    })
    const decoded = Schema.decodeUnknownEither(Manifest)(parsed)
    if (Either.isLeft(decoded)) return yield* fail("manifest.json is not a claudy backup manifest")
    const m = decoded.right
    for (const e of [...m.volumes, m.home_state]) {
      const file = join(dir, e.file)
      if (!existsSync(file)) return yield* fail(`${e.file} is missing`)
      const bytes = yield* sizeOf(file)
      if (bytes !== e.bytes) return yield* fail(`${e.file} has ${bytes} bytes, the manifest says ${e.bytes}`)
      if ((yield* sha256File(file)) !== e.sha256) return yield* fail(`${e.file} does not match its sha256 in the manifest`)
    }
    return { dir, manifest: m }
  })

export const restoreAt = <R>(site: BackupSite<R>, path: string) =>
  Effect.gen(function* () {
    yield* site.refuse("restore")
    const { dir, manifest } = yield* verifyBackup(path)
    const { settings } = yield* Settings
    yield* site.reachable
    // Refuse before changing anything if a target volume is not ours.
    yield* site.checkVolumes(dir, manifest.volumes.map((v) => volumeName(settings.instance, v.role)))
    yield* ensureHome(settings)
    yield* maintenance(settings.home, "restore")
    yield* site.stopParent
    for (const v of manifest.volumes) yield* site.restoreVolume(volumeName(settings.instance, v.role), dir, v.file)
    yield* site.restoreHome(dir, manifest.home_state.file)
    const url = yield* site.startParent
    return { dir, manifest, parent: parentName(settings.instance), url }
  }).pipe(Effect.scoped)

export const restore = (path: string) => Effect.flatMap(localSite, (site) => restoreAt(site, path))

/** Backups under `root` (default: next to HAL9000_HOME), newest first, with whether each has a manifest. */
export const listBackups = (root?: string) =>
  Effect.gen(function* () {
    const { settings } = yield* Settings
    const dir = resolve(root ?? defaultBackupRoot(settings.home))
    const prefix = backupPrefix(settings.home)
    const names = (yield* listDir(dir, "list the backups in")).filter((n) => n.startsWith(prefix))
    return names
      .map((n) => {
        const path = join(dir, n)
        let manifest: Manifest | undefined
        try {
          const d = Schema.decodeUnknownEither(Manifest)(JSON.parse(readFileSync(join(path, "manifest.json"), "utf8")))
          manifest = Either.isRight(d) ? d.right : undefined
        } catch {
          manifest = undefined
        }
        const bytes = manifest ? [...manifest.volumes, manifest.home_state].reduce((s, e) => s + e.bytes, 0) : 0
        return { path, created_at: manifest?.created_at ?? null, complete: manifest !== undefined, bytes }
      })
      .sort((a, b) => b.path.localeCompare(a.path))
  })
