/**
 * The pool's small state files under HAL9000_HOME/pool: the target set by `pool scale`, the projects to keep warm,
 * the spawn log (hit rate), the manager's state, and the workers/*.json mirror of the labels.
 */
import { Effect, Either, Schema } from "effect"
import { appendFileSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { writeJsonAtomic } from "../state/atomicJson.ts"
import { errnoOf, hostFile, listDir } from "../state/hostFile.ts"

export const poolDir = (home: string) => join(home, "pool")
export const pidFile = (home: string) => join(poolDir(home), "pool-manager.pid")
export const managerLog = (home: string) => join(home, "logs", "pool-manager.log")
const targetFile = (home: string) => join(poolDir(home), "target.json")
const projectsFile = (home: string) => join(poolDir(home), "projects.json")
const spawnsFile = (home: string) => join(poolDir(home), "spawns.log")
const stateFile = (home: string) => join(poolDir(home), "state.json")
export const mirrorDir = (home: string) => join(poolDir(home), "workers")

/** A file's text; undefined when it does not exist, a StateError when it cannot be read. */
const readText = (file: string) =>
  hostFile(file, "read", () => {
    try {
      return readFileSync(file, "utf8")
    } catch (e) {
      if (errnoOf(e) === "ENOENT") return undefined
      throw e
    }
  })

/** A small JSON state file; absent, corrupt or of another shape reads as undefined (the manager rewrites it). */
const readJson = <A, I>(file: string, schema: Schema.Schema<A, I>) =>
  Effect.map(readText(file), (text) => {
    if (text === undefined) return undefined
    try {
      const r = Schema.decodeUnknownEither(schema)(JSON.parse(text))
      return Either.isRight(r) ? r.right : undefined
    } catch {
      return undefined
    }
  })

const Target = Schema.Struct({ target: Schema.Number, set_at: Schema.String })
export const readTarget = (home: string) => Effect.map(readJson(targetFile(home), Target), (t) => t?.target)
export const writeTarget = (home: string, target: number) =>
  writeJsonAtomic(targetFile(home), { target, set_at: new Date().toISOString() })

const Projects = Schema.Struct({ projects: Schema.Array(Schema.String) })
export const readProjects = (home: string) => Effect.map(readJson(projectsFile(home), Projects), (p) => p?.projects ?? [])
export const addProjects = (home: string, dirs: ReadonlyArray<string>) =>
  Effect.flatMap(readProjects(home), (current) =>
    writeJsonAtomic(projectsFile(home), { projects: [...dirs, ...current.filter((p) => !dirs.includes(p))] })
  )

export const SpawnEntry = Schema.Struct({
  at: Schema.String,
  session: Schema.String,
  served: Schema.Literal("warm", "cold"),
  project: Schema.String,
  /** spawned with the shape the pool warms (default image and limits, via the parent, with a TTY) */
  poolable: Schema.Boolean,
  /** from the start of the spawn to the session's hand-off */
  ms: Schema.optional(Schema.Number)
})
export type SpawnEntry = typeof SpawnEntry.Type

/** One line per spawn, appended with O_APPEND (atomic for lines this small), so concurrent spawns never collide. */
export const logSpawn = (home: string, e: SpawnEntry) =>
  Effect.sync(() => {
    try {
      mkdirSync(poolDir(home), { recursive: true, mode: 0o700 })
      appendFileSync(spawnsFile(home), `${JSON.stringify(e)}\n`, { mode: 0o600 })
    } catch {
      // statistics only: a full disk must not fail a spawn
    }
  })

/** A spawn's line once its session is handed over: served warm or cold, timed from `startedAt` (performance.now()). */
export const logSpawned = (home: string, e: Omit<SpawnEntry, "at" | "ms" | "served"> & { readonly warm: boolean; readonly startedAt: number }) =>
  logSpawn(home, {
    at: new Date().toISOString(),
    session: e.session,
    served: e.warm ? "warm" : "cold",
    project: e.project,
    poolable: e.poolable,
    ms: Math.round(performance.now() - e.startedAt)
  })

export const readSpawns = (home: string) =>
  Effect.map(readText(spawnsFile(home)), (text = "") =>
    text.split("\n").flatMap((line) => {
      if (line.trim() === "") return []
      try {
        const r = Schema.decodeUnknownEither(SpawnEntry)(JSON.parse(line))
        return Either.isRight(r) ? [r.right] : []
      } catch {
        return []
      }
    })
  )

/** The settings a running manager works with, as `pool status` shows them (the guide: "pool status with configuration"). */
export const ManagerConfig = Schema.Struct({
  min_warm_workers: Schema.Number,
  max_warm_workers: Schema.Number,
  idle_timeout: Schema.Number,
  check_interval: Schema.Number,
  worker_image: Schema.String,
  worker_memory: Schema.String,
  worker_cpus: Schema.String,
  worker_pids_limit: Schema.Number
})
export type ManagerConfig = typeof ManagerConfig.Type

export const ManagerState = Schema.Struct({
  pid: Schema.Number,
  started_at: Schema.String,
  last_loop_at: Schema.NullOr(Schema.String),
  last_error: Schema.NullOr(Schema.String),
  loops: Schema.Number,
  /** absent in a state written by an older claudy */
  kind: Schema.optional(Schema.Literal("pool run", "daemon run")),
  config: Schema.optional(ManagerConfig)
})
export type ManagerState = typeof ManagerState.Type
export const readState = (home: string) => readJson(stateFile(home), ManagerState)
export const writeState = (home: string, s: ManagerState) => writeJsonAtomic(stateFile(home), s)

export const MirrorEntry = Schema.Struct({
  name: Schema.String,
  id: Schema.String,
  slot: Schema.String,
  spec: Schema.String,
  project: Schema.String,
  state: Schema.String,
  created_at: Schema.String,
  claimed_by: Schema.NullOr(Schema.String)
})
export type MirrorEntry = typeof MirrorEntry.Type

/** Valid mirror entries; corrupt or foreign files are left for the manager to rewrite. */
export const readMirror = (home: string) =>
  Effect.flatMap(listDir(mirrorDir(home), "read the pool's workers in"), (names) =>
    Effect.map(
      Effect.forEach(names.filter((n) => n.endsWith(".json")), (n) => readJson(join(mirrorDir(home), n), MirrorEntry)),
      (entries) => entries.filter((e) => e !== undefined)
    )
  )

/** Make workers/*.json exactly the given entries: write each, delete every other file. */
export const syncMirror = (home: string, entries: ReadonlyArray<MirrorEntry>) =>
  Effect.gen(function* () {
    const keep = new Set(entries.map((e) => `${e.slot}.json`))
    for (const e of entries) yield* writeJsonAtomic(join(mirrorDir(home), `${e.slot}.json`), e)
    for (const n of yield* listDir(mirrorDir(home), "read the pool's workers in")) {
      if (!keep.has(n)) yield* hostFile(join(mirrorDir(home), n), "remove", () => rmSync(join(mirrorDir(home), n), { force: true }))
    }
  })
