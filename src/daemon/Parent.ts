/**
 * The parent container's lifecycle: volumes, image, create/start, ChromaDB readiness, stop, restart, status.
 * Every object is found by name and then checked by label: a same-named object claudy did not create is refused.
 */
import { Context, Effect, Fiber, Layer, Option } from "effect"
import { Settings } from "../config/Settings.ts"
import {
  ChromaStartTimeout,
  type DockerApiError,
  ForeignObject,
  ParentConfigDiffers,
  PortInUse
} from "../domain/errors.ts"
import { describeOwner, ownerFilter, ownerLabels, ownershipOf } from "../domain/labels.ts"
import { parentName, VOLUME_ROLES, volumeName } from "../domain/names.ts"
import { Engine, type EngineShape } from "../docker/Engine.ts"
import { lastLines } from "../docker/logStream.ts"
import { ownedVolume } from "../docker/ownedVolume.ts"
import type { ContainerInspect } from "../docker/types.ts"
import { Images } from "../images/Images.ts"
import { pullPolicy } from "../images/pullPolicy.ts"
import { readClaims, sessionOf } from "../pool/claims.ts"
import { containersKey, dependsOn, notReusable, reusedAnswer, WarmState } from "../server/WarmState.ts"
import { parentRunKey, parentRunOfLabels } from "../spawn/workerSpec.ts"
import { ensureHome, ownerOf } from "../state/home.ts"
import { readFileSync } from "node:fs"
import { VERSION } from "../version.ts"
import { chromaUrl, chromaVersion, type Heartbeat, heartbeat, waitForHeartbeat } from "./chroma.ts"
import { parentDifferences, parentSpec, publishedPort } from "./parentSpec.ts"
import { portIsFree, processHoldingPort } from "./portHolder.ts"

export type StartOutcome = "already-running" | "started" | "created" | "recreated"

export interface ParentStatus {
  readonly container: string
  readonly state: "absent" | "running" | "restarting" | "stopped"
  readonly healthy: boolean
  readonly id?: string
  readonly startedAt?: string
  readonly uptimeSeconds?: number
  readonly restartCount?: number
  readonly image?: string
  readonly imageId?: string
  readonly imageDigest?: string
  readonly port: number
  readonly chromadb: {
    readonly url: string
    readonly heartbeat: boolean
    readonly heartbeatMs?: number
    readonly version?: string
    readonly error?: string
  }
  readonly volumes: ReadonlyArray<{ readonly name: string; readonly present: boolean }>
  /** sessions: cold workers and claimed warm ones (idle warm workers are the pool's, not counted here) */
  readonly workers: {
    readonly total: number
    readonly running: number
    /** running via-parent sessions that joined an earlier parent (recreated or restarted since): no network */
    readonly orphanedNetwork: number
    /** the running via-parent sessions of the parent's current run: they lose their network when it stops */
    readonly viaParentSessions: ReadonlyArray<string>
    /** the names of the orphaned ones */
    readonly orphanedSessions: ReadonlyArray<string>
  }
}

/** A container's first process, seen from this host (the engine's own host: a unix socket): alive and not a zombie. */
const hostProcessLives = (pid: number) => {
  try {
    return pid > 0 && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"))
  } catch {
    return false
  }
}

/**
 * The parent container as the engine describes it; in the control server, reused until an engine event and kept as
 * running only while its process lives (a status or spawn right after `docker kill` never waits for the event).
 */
export const inspectParent = (engine: EngineShape, name: string) =>
  reusedAnswer(engine.address.display, `parent:${name}`, engine.inspectContainer(name), (c) =>
    Option.match(c, { onNone: () => true, onSome: (p) => !p.State.Running || (engine.address._tag === "unix" && hostProcessLives(p.State.Pid ?? 0)) })
  )

/** How old a heartbeat the control server may show (ChromaDB answers its heartbeat in 2-15 ms here, measured). */
const HEARTBEAT_MAX_AGE_MS = 2_000

const stateOf = (c: ContainerInspect): ParentStatus["state"] =>
  c.State.Running ? (c.State.Restarting ? "restarting" : "running") : c.State.Restarting ? "restarting" : "stopped"

const make = Effect.gen(function* () {
  const engine = yield* Engine
  const images = yield* Images
  const { settings } = yield* Settings
  const owner = ownerOf(settings)
  const name = parentName(settings.instance)

  /** The parent if it exists and is ours; a foreign or other-home object of that name is an error. */
  const findOwned = Effect.gen(function* () {
    const found = yield* engine.inspectContainer(name)
    if (Option.isNone(found)) return Option.none<ContainerInspect>()
    const ownership = ownershipOf(found.value.Config.Labels, owner)
    if (ownership !== "ours") {
      return yield* new ForeignObject({ kind: "container", name, owner: describeOwner(found.value.Config.Labels, ownership) })
    }
    return found
  })

  const ensureVolumes = Effect.forEach(VOLUME_ROLES, (role) =>
    Effect.gen(function* () {
      const vname = volumeName(settings.instance, role)
      if (Option.isSome(yield* ownedVolume(engine, owner, vname))) return
      yield* engine.createVolume(vname, ownerLabels(owner, "volume", VERSION))
      yield* Effect.logInfo(`created volume ${vname}`)
    })
  )

  /** Who holds `port`: one of the engine's containers, a host process, or "another process". */
  const portHolder = (port: number) =>
    Effect.gen(function* () {
      const published = yield* engine.listContainers({ publish: [`${port}`] }).pipe(Effect.orElseSucceed(() => []))
      const running = published.filter((c) => c.State === "running")
      if (running.length > 0) {
        const c = running[0]!
        const cname = c.Names[0]?.replace(/^\//, "") ?? c.Id.slice(0, 12)
        const whose = ownershipOf(c.Labels, owner) === "foreign" ? "" : " (a claudy container)"
        return `container ${cname}${whose}`
      }
      return (yield* processHoldingPort(port)) ?? "another process"
    })

  const checkPortFree = (port: number) =>
    Effect.gen(function* () {
      if (yield* portIsFree(port)) return
      return yield* new PortInUse({ port, holder: yield* portHolder(port) })
    })

  const startContainer = (id: string, port: number) =>
    engine.startContainer(id).pipe(
      Effect.catchTag("DockerApiError", (e): Effect.Effect<never, DockerApiError | PortInUse> =>
        /address already in use|port is already allocated/i.test(e.detail)
          ? Effect.flatMap(portHolder(port), (holder) => Effect.fail(new PortInUse({ port, holder })))
          : Effect.fail(e)
      )
    )

  const waitReady = (port: number) =>
    Effect.gen(function* () {
      const ready = yield* waitForHeartbeat(port, settings.chromadbStartTimeout)
      if (Option.isSome(ready)) return
      const logs = yield* engine.containerLogs(name, 20).pipe(Effect.orElseSucceed(() => ""))
      const current = yield* engine.inspectContainer(name).pipe(Effect.orElseSucceed(() => Option.none()))
      const exited = Option.isSome(current) && !current.value.State.Running
      const held = (yield* portIsFree(port)) ? undefined : yield* portHolder(port)
      const loopbackOnly = ["127.0.0.1", "localhost", "::1"].includes(settings.chromadbHost)
      const likelyCause = exited
        ? `the ChromaDB process exited (code ${Option.getOrThrow(current).State.ExitCode ?? "?"}); see the log lines above`
        : held && !held.startsWith(`container ${name}`)
          ? `port ${port} is in use by ${held}`
          : loopbackOnly
            ? `CHROMADB_HOST=${settings.chromadbHost} binds ChromaDB to the parent's own loopback, which the published port cannot reach; use CHROMADB_HOST=0.0.0.0`
            : undefined
      return yield* new ChromaStartTimeout({
        container: name,
        seconds: settings.chromadbStartTimeout,
        url: chromaUrl(port),
        logTail: lastLines(logs, 20),
        ...(likelyCause ? { likelyCause } : {})
      })
    })

  const create = (spec: ReturnType<typeof parentSpec>) =>
    Effect.gen(function* () {
      yield* checkPortFree(spec.port)
      const { Id } = yield* engine.createContainer(spec.name, spec.createBody)
      yield* startContainer(Id, spec.port).pipe(
        // A parent that never ran is not worth keeping: remove it so the next start is clean.
        Effect.tapError(() => engine.removeContainer(Id, { force: true }).pipe(Effect.ignore))
      )
      return Id
    })

  const start = (opts: { readonly recreate: boolean }) =>
    Effect.gen(function* () {
      yield* engine.ping
      yield* ensureHome(settings)
      const existing = yield* findOwned
      const parentImage = yield* images.ensure(settings.parentImage, "parent", pullPolicy(settings, "parent"))
      yield* images.ensure(settings.workerImage, "worker", pullPolicy(settings, "worker"))
      yield* ensureVolumes
      const imageId = Option.match(parentImage, { onNone: () => settings.parentImage, onSome: (i) => i.Id })
      const spec = parentSpec(settings, owner, VERSION, imageId)

      let outcome: StartOutcome
      if (Option.isNone(existing)) {
        yield* create(spec)
        outcome = "created"
      } else {
        const current = existing.value
        const differences = parentDifferences(spec, current, imageId)
        if (differences.length > 0) {
          if (!opts.recreate) return yield* new ParentConfigDiffers({ container: name, differences })
          yield* Effect.logInfo(`recreating ${name}: ${differences.join("; ")}`)
          yield* engine.stopContainer(current.Id, 10)
          yield* engine.removeContainer(current.Id, { force: true })
          yield* create(spec)
          outcome = "recreated"
        } else if (current.State.Running) {
          const hb = yield* heartbeat(spec.port)
          if (hb.ok) return { outcome: "already-running" as const, port: spec.port, container: name }
          outcome = "started"
        } else {
          yield* checkPortFree(spec.port)
          yield* startContainer(current.Id, spec.port)
          outcome = "started"
        }
      }
      yield* waitReady(spec.port)
      return { outcome, port: spec.port, container: name }
    })

  const stop = Effect.gen(function* () {
    yield* engine.ping
    const existing = yield* findOwned
    if (Option.isNone(existing)) return "absent" as const
    if (!existing.value.State.Running && !existing.value.State.Restarting) return "already-stopped" as const
    yield* engine.stopContainer(existing.value.Id, 10)
    return "stopped" as const
  })

  // One round of calls in parallel (a status is one process start plus this round): the engine's view and, guessed
  // from the settings, ChromaDB's answer on the configured port and the configured image. Only when the container
  // says otherwise (another published port, an older image) is that part asked again. No separate ping: an
  // unreachable engine fails the round with the same DockerUnavailable. ChromaDB's guesses run in fibers of the status'
  // scope, interrupted when it ends: a port that accepts but never answers cannot slow a status it is not part of.
  // In the control server, the engine's answers (the parent, its containers, volumes, the image, ChromaDB's version)
  // are reused until an engine event could change them, and ChromaDB's heartbeat is at most HEARTBEAT_MAX_AGE_MS old
  // (kept fresh by the server). A parent kept as running is reused only while its process lives (/proc), so a killed
  // parent shows at once, even before its event arrives.
  const status = Effect.gen(function* () {
    const warm = yield* Effect.serviceOption(WarmState)
    const reused = <A, E, R>(key: string, compute: Effect.Effect<A, E, R>, stillTrue?: (a: A) => boolean) =>
      Option.isSome(warm) ? warm.value.cached(engine.address.display, key, compute, stillTrue) : compute
    const configuredPort = settings.chromadbPort
    const hbKey = `heartbeat:${configuredPort}`
    const guessHb = yield* Effect.forkScoped(
      Option.isSome(warm) ? warm.value.fresh(engine.address.display, hbKey, HEARTBEAT_MAX_AGE_MS, heartbeat(configuredPort)) : heartbeat(configuredPort)
    )
    const guessVersion = yield* Effect.forkScoped(reused(`chroma-version:${configuredPort}`, chromaVersion(configuredPort)))
    const [found, volumes, containers, claims, guessImage] = yield* Effect.all(
      [
        inspectParent(engine, name),
        // our volumes by label: a same-named volume that is not ours counts as missing
        Effect.map(reused(`volumes:${owner.home}:${owner.instance}`, engine.listVolumes(ownerFilter(owner, "volume"))), (ours) =>
          VOLUME_ROLES.map((role) => {
            const vname = volumeName(settings.instance, role)
            return { name: vname, present: ours.some((v) => v.Name === vname) }
          })
        ),
        reused(containersKey(owner), engine.listContainers(ownerFilter(owner))),
        readClaims(settings.home),
        reused(`image:${settings.parentImage}`, engine.inspectImage(settings.parentImage).pipe(Effect.orElseSucceed(() => Option.none())))
      ],
      { concurrency: "unbounded" }
    )
    const ours = Option.filter(found, (c) => ownershipOf(c.Config.Labels, owner) === "ours")
    // Sessions: cold workers, and warm workers a spawn has claimed (a warm-served session keeps its warm labels).
    const sessionList = containers.flatMap((c) => {
      const session = sessionOf(c.Labels, claims)
      return session === undefined ? [] : [{ c, session }]
    })
    const running = sessionList.filter(({ c }) => c.State === "running")
    const viaParent = running.filter(({ c }) => c.HostConfig?.NetworkMode?.startsWith("container:"))
    const currentRun = Option.match(ours, {
      onNone: () => undefined,
      onSome: (p) => (p.State.Running ? parentRunKey({ id: p.Id, startedAt: p.State.StartedAt ?? "" }) : undefined)
    })
    // A via-parent worker joined the parent's network namespace as it was when the worker started: if the parent was
    // recreated (another id) or restarted since (killed, engine restart), that namespace is gone. Workers record the
    // run they joined (labels); for those of an older claudy, their start time is compared with the parent's.
    const lostNetwork = yield* Effect.forEach(viaParent, ({ c }) => {
      if (currentRun === undefined) return Effect.succeed(true)
      const joined = parentRunOfLabels(c.Labels)
      if (joined !== "") return Effect.succeed(joined !== currentRun)
      const p = Option.getOrThrow(ours)
      return c.HostConfig?.NetworkMode !== `container:${p.Id}`
        ? Effect.succeed(true)
        : Effect.map(Effect.zipRight(notReusable, engine.inspectContainer(c.Id)).pipe(Effect.orElseSucceed(() => Option.none())), (i) =>
            Option.match(i, {
              onNone: () => false,
              onSome: (wi) => Date.parse(wi.State.StartedAt ?? "") < Date.parse(p.State.StartedAt ?? "")
            })
          )
    }, { concurrency: 8 })
    const workers = {
      total: sessionList.length,
      running: running.length,
      orphanedNetwork: lostNetwork.filter(Boolean).length,
      viaParentSessions: viaParent.filter((_, i) => !lostNetwork[i]).map((w) => w.session),
      orphanedSessions: viaParent.filter((_, i) => lostNetwork[i]).map((w) => w.session)
    }
    if (Option.isNone(ours)) {
      if (Option.isSome(found)) {
        const ownership = ownershipOf(found.value.Config.Labels, owner)
        return yield* new ForeignObject({ kind: "container", name, owner: describeOwner(found.value.Config.Labels, ownership) })
      }
      const absent: ParentStatus = {
        container: name,
        state: "absent",
        healthy: false,
        port: configuredPort,
        chromadb: { url: chromaUrl(configuredPort), heartbeat: false },
        volumes,
        workers
      }
      return absent
    }
    const c = ours.value
    const port = publishedPort(c) ?? configuredPort
    const state = stateOf(c)
    const useGuess = state === "running" && port === configuredPort
    const [hb, version, image] = yield* Effect.all(
      [
        state !== "running"
          ? Effect.succeed<Heartbeat>({ ok: false, ms: 0, error: "parent not running" })
          : useGuess
            ? Fiber.join(guessHb)
            : Effect.zipRight(notReusable, heartbeat(port)), // another port: not kept fresh, so not an answer to keep
        state !== "running" ? Effect.succeed(Option.none<string>()) : useGuess ? Fiber.join(guessVersion) : chromaVersion(port),
        Option.exists(guessImage, (i) => i.Id === c.Image)
          ? Effect.succeed(guessImage)
          : Effect.zipRight(notReusable, engine.inspectImage(c.Image).pipe(Effect.orElseSucceed(() => Option.none())))
      ],
      { concurrency: "unbounded" }
    )
    const startedAt = c.State.StartedAt
    const uptimeNow = () => (state === "running" && startedAt ? Math.max(0, Math.round((Date.now() - Date.parse(startedAt)) / 1000)) : undefined)
    const uptime = uptimeNow()
    yield* dependsOn(() => uptimeNow() === uptime) // a served status is reused only within the second it shows
    const digest = Option.flatMap(image, (i) => Option.fromNullable(i.RepoDigests?.[0]))
    const present: ParentStatus = {
      container: name,
      state,
      healthy: state === "running" && hb.ok,
      id: c.Id.slice(0, 12),
      ...(startedAt ? { startedAt } : {}),
      ...(uptime !== undefined ? { uptimeSeconds: uptime } : {}),
      restartCount: c.RestartCount ?? 0,
      image: c.Config.Image,
      imageId: c.Image,
      ...(Option.isSome(digest) ? { imageDigest: digest.value } : {}),
      port,
      chromadb: {
        url: chromaUrl(port),
        heartbeat: hb.ok,
        ...(hb.ok ? { heartbeatMs: hb.ms } : {}),
        ...(Option.isSome(version) ? { version: version.value } : {}),
        ...(hb.error ? { error: hb.error } : {})
      },
      volumes,
      workers
    }
    return present
  }).pipe(Effect.scoped)

  return { name, owner, start, stop, status }
})

export class Parent extends Context.Tag("claudy/Parent")<Parent, Effect.Effect.Success<typeof make>>() {
  /** The service from its dependencies (cli/services.ts builds them all this way, in one layer). */
  static make = make
  static layer = Layer.effect(Parent, make)
}
