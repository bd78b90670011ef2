/**
 * `claudy doctor`: one pass over everything claudy depends on, each check ok / warn / fail with the fix.
 * Checks never change anything. Any fail makes the command exit non-zero.
 */
import { Effect, Option } from "effect"
import { accessSync, constants, statfsSync, statSync } from "node:fs"
import { resolveApiKey } from "../auth/apiKey.ts"
import { Settings } from "../config/Settings.ts"
import { Parent } from "../daemon/Parent.ts"
import { portIsFree } from "../daemon/portHolder.ts"
import { ownershipOf } from "../domain/labels.ts"
import { claudeHomeVolume, VOLUME_ROLES, volumeName } from "../domain/names.ts"
import { Engine } from "../docker/Engine.ts"
import { describeEngine, engineKind } from "../docker/engineKind.ts"
import { pidFile } from "../pool/files.ts"
import { runningManager } from "../pool/pidFile.ts"
import { ownerOf } from "../state/home.ts"

export type Level = "ok" | "warn" | "fail"
export interface Check {
  readonly name: string
  readonly level: Level
  readonly detail: string
  readonly fix?: string
}

export const check = (name: string, level: Level, detail: string, fix?: string): Check => ({ name, level, detail, ...(fix ? { fix } : {}) })

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`

/** Free-space verdict for the engine's data directory (pure). */
export const diskLevel = (freeBytes: number): Level => (freeBytes < 1024 ** 3 ? "fail" : freeBytes < 5 * 1024 ** 3 ? "warn" : "ok")

/** HAL9000_HOME permission verdict from its mode (pure): group/other access exposes records and API keys. */
export const homeModeLevel = (mode: number): Level => ((mode & 0o077) === 0 ? "ok" : "warn")

/** The parent's verdict from its status (the same on one host and on a swarm). */
export const parentCheck = (s: { readonly state: string; readonly healthy: boolean; readonly container: string; readonly chromadb: { readonly url: string; readonly heartbeatMs?: number } }) =>
  s.state === "running" && s.healthy
    ? check("parent", "ok", `${s.container} running, ChromaDB healthy at ${s.chromadb.url} (${s.chromadb.heartbeatMs} ms)`)
    : s.state === "running"
      ? check("parent", "fail", `${s.container} running but ChromaDB does not answer at ${s.chromadb.url}`, "claudy daemon logs, then claudy daemon restart")
      : check("parent", "warn", `${s.container} is ${s.state}`, "claudy daemon start")

/** The engine on this host (or DOCKER_HOST's), its images and volumes, the parent container and its port. */
const engineChecks = Effect.gen(function* () {
  const engine = yield* Engine
  const parent = yield* Parent
  const { settings } = yield* Settings
  const owner = ownerOf(settings)
  const checks: Array<Check> = []

  const version = yield* engine.version.pipe(Effect.either)
  if (version._tag === "Left") {
    checks.push(check("engine", "fail", `${engine.address.display}: ${version.left.message}`, "start Docker or set DOCKER_HOST (scripts/ensure-docker as root)"))
  } else {
    const info = (yield* engine.info.pipe(Effect.orElseSucceed(() => ({})))) as Record<string, unknown>
    const kind = engineKind(version.right, info)
    checks.push(check("engine", "ok", `${engine.address.display}: ${describeEngine(kind)}`))
    const missing = kind.unenforced
    const enforced = (limit: (typeof missing)[number]) => `${limit} limits ${missing.includes(limit) ? "NOT enforced" : "enforced"}`
    checks.push(
      check(
        "limits",
        missing.length === 0 ? "ok" : "warn",
        `cgroup v${kind.cgroupVersion} (${String(info.CgroupDriver ?? "?")}): ${enforced("memory")}, ${enforced("cpus")}, ${enforced("pids")}`,
        missing.length === 0
          ? undefined
          : kind.rootless
            ? "spawns are refused unless --no-limits: run the engine rootful, or on cgroup v2 with delegation (docs/TROUBLESHOOTING.md)"
            : "spawns are refused unless --no-limits: enable the memory, cpu and pids cgroup controllers (kernel cmdline cgroup_enable=memory)"
      )
    )
    checks.push(check("storage", "ok", `storage driver ${String(info.Driver ?? "?")}, data in ${String(info.DockerRootDir ?? "?")}`))
    const root = String(info.DockerRootDir ?? "")
    if (engine.address._tag === "unix" && root) {
      const free = yield* Effect.try(() => {
        const s = statfsSync(root)
        return s.bavail * s.bsize
      }).pipe(Effect.option)
      if (Option.isSome(free)) {
        const level = diskLevel(free.value)
        checks.push(check("disk", level, `${gib(free.value)} free where images and volumes live (${root})`, level === "ok" ? undefined : "free disk space: docker system df shows what uses it"))
      }
    }
    for (const [kind, image] of [["parent", settings.parentImage], ["worker", settings.workerImage]] as const) {
      const img = yield* engine.inspectImage(image)
      checks.push(
        Option.isSome(img)
          ? check(`${kind} image`, "ok", `${image} ${img.value.RepoDigests?.[0] ?? img.value.Id.slice(0, 19)}`)
          : check(`${kind} image`, kind === "parent" ? "fail" : "warn", `${image} is not present`, `claudy images build ${kind}`)
      )
    }
    for (const role of VOLUME_ROLES) {
      const name = volumeName(settings.instance, role)
      const v = yield* engine.inspectVolume(name)
      checks.push(
        Option.isNone(v)
          ? check(`volume ${role}`, "warn", `${name} does not exist yet`, "claudy daemon start creates it")
          : ownershipOf(v.value.Labels, owner) === "ours"
            ? check(`volume ${role}`, "ok", `${name} (${v.value.Driver})`)
            : check(`volume ${role}`, "fail", `${name} exists but is not this claudy's`, "rename it, or use HAL9000_INSTANCE=<other name>")
      )
    }
    const claudeHome = claudeHomeVolume(settings.instance)
    const ch = yield* engine.inspectVolume(claudeHome)
    checks.push(
      Option.isNone(ch)
        ? check("claude home", "ok", `${claudeHome} does not exist yet (the first spawn creates it)`)
        : ownershipOf(ch.value.Labels, owner) === "ours"
          ? check("claude home", "ok", `${claudeHome}: Claude Code's login, settings and plugins for every session`)
          : check("claude home", "fail", `${claudeHome} exists but is not this claudy's`, "rename it, or use HAL9000_INSTANCE=<other name>")
    )
    const status = yield* parent.status.pipe(Effect.either)
    if (status._tag === "Left") {
      checks.push(check("parent", "fail", status.left.message, "see: claudy daemon status"))
    } else {
      const s = status.right
      checks.push(parentCheck(s))
      const free = yield* portIsFree(settings.chromadbPort)
      const ours = s.state === "running" && s.port === settings.chromadbPort
      checks.push(
        free || ours
          ? check("port", "ok", ours ? `${settings.chromadbPort} is held by ${s.container}` : `${settings.chromadbPort} is free`)
          : check("port", "fail", `${settings.chromadbPort} on 127.0.0.1 is held by another process`, "free it or set CHROMADB_PORT")
      )
    }
  }
  return checks
})

/** What lives on this host whatever the backend: HAL9000_HOME, the credentials, the pool manager's pid file. */
const hostChecks = Effect.gen(function* () {
  const { settings } = yield* Settings
  const checks: Array<Check> = []
  const home = settings.home
  const homeCheck = yield* Effect.try(() => {
    const st = statSync(home)
    accessSync(home, constants.W_OK)
    return st.mode
  }).pipe(Effect.either)
  checks.push(
    homeCheck._tag === "Left"
      ? check("HAL9000_HOME", "warn", `${home} does not exist or is not writable`, "claudy daemon start creates it; otherwise fix its ownership")
      : homeModeLevel(homeCheck.right) === "ok"
        ? check("HAL9000_HOME", "ok", `${home} writable, mode ${(homeCheck.right & 0o777).toString(8)}`)
        : check("HAL9000_HOME", "warn", `${home} is mode ${(homeCheck.right & 0o777).toString(8)}: other users can read session records`, `chmod 700 ${home}`)
  )
  const key = yield* resolveApiKey(settings).pipe(Effect.either)
  checks.push(
    key._tag === "Left"
      ? check("credentials", "fail", key.left.detail, key.left.fix)
      : key.right.source === "env"
        ? check("credentials", "ok", "ANTHROPIC_API_KEY from the environment")
        : key.right.source === "file"
          ? check("credentials", "ok", `API key file ${key.right.path}`)
          : check("credentials", "ok", "no API key: sessions use the login kept in the Claude home (claudy auth status; claudy login)")
  )
  const pm = yield* runningManager(pidFile(home))
  checks.push(
    pm.pid === undefined
      ? check("pool manager", "ok", "not running")
      : pm.alive
        ? check("pool manager", "ok", `running (pid ${pm.pid})`)
        : check("pool manager", "warn", `stale pid file (pid ${pm.pid} is not a pool manager)`, "claudy pool start replaces it")
  )
  return checks
})

/** On a swarm (src/swarm/doctor.ts, loaded only then): the manager, every node's engine, no-new-privileges, the parent. */
const swarmChecks = Effect.flatMap(Effect.promise(() => import("../swarm/doctor.ts")), (m) => m.swarmChecks)

export const doctor = Effect.gen(function* () {
  const { settings } = yield* Settings
  const backend = settings.backend === "swarm" ? yield* swarmChecks : yield* engineChecks
  return [...backend, ...(yield* hostChecks)]
})
