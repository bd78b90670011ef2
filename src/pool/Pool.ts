/**
 * The warm pool: workers pre-started with the default shape for known projects, waiting on their slot's FIFO.
 * `claim` hands a session to one with host file operations only (O_EXCL claim, session script, FIFO write);
 * `reconcile` is one observe -> plan -> act pass of the manager.
 */
import { Context, Effect, Either, Exit, Layer, Option } from "effect"
import { statSync } from "node:fs"
import { Settings } from "../config/Settings.ts"
import type { Settings as SettingsValues } from "../config/variables.ts"
import { StateError } from "../domain/errors.ts"
import { LABEL, ownerFilter, ownershipOf } from "../domain/labels.ts"
import { parentName } from "../domain/names.ts"
import { publishedPort } from "../daemon/parentSpec.ts"
import { Engine, type EngineError } from "../docker/Engine.ts"
import { requireLocalEngine } from "../docker/localEngine.ts"
import { workerMemory } from "../mcp/binary.ts"
import { Sessions } from "../sessions/Sessions.ts"
import { acquireWorker } from "../spawn/createWorker.ts"
import { chooseProfile } from "../images/profiles.ts"
import { resolveLimits } from "../spawn/limits.ts"
import { imageForProfile } from "../spawn/profileImage.ts"
import {
  type ParentRun,
  parentRunKey,
  parentRunOfLabels,
  type WorkerShape,
  workerContainerName,
  workerFingerprint,
  workerUser
} from "../spawn/workerSpec.ts"
import { hostFile } from "../state/hostFile.ts"
import { ownerOf } from "../state/home.ts"
import { readClaims, releaseClaim, tryClaim } from "./claims.ts"
import { type MirrorEntry, readMirror, readProjects, readSpawns, readTarget, syncMirror } from "./files.ts"
import { type ObservedWarm, type PoolAction, planPool } from "./plan.ts"
import { listSlots, removeSlot, type SessionHandoff, signalSlot, slotDir, waitReady, writeHandoff } from "./slot.ts"

/** A slot without a container is an orphan only after this long: a spawn creates the slot just before its container. */
const ORPHAN_SLOT_GRACE_MS = 10_000

/**
 * The shape a default `claudy --via-parent PROJECT` spawn has: what the pool keeps warm (`projectOwner`: its uid/gid),
 * on one host or on a swarm (pure). The image is the project's profile's (the spawn resolves it, the pool with
 * `profileOf`); base when not given.
 */
export const poolShape = (
  settings: SettingsValues,
  projectDir: string,
  parent: ParentRun & { readonly port: number },
  projectOwner: { readonly uid: number; readonly gid: number },
  on: { readonly image: string; readonly profile: string } = { image: settings.workerImage, profile: "base" }
): WorkerShape => ({
  owner: ownerOf(settings),
  image: on.image,
  profile: on.profile,
  projectDir,
  limits: Either.getOrThrow(resolveLimits({ noLimits: false }, settings)),
  viaParent: true,
  chromadbPort: parent.port,
  parent: { id: parent.id, startedAt: parent.startedAt },
  user: workerUser(projectOwner),
  tty: true,
  ...workerMemory(settings)
})

export interface Claimed {
  readonly id: string
  readonly name: string
  readonly slot: string
}

const make = Effect.gen(function* () {
  const engine = yield* Engine
  const sessions = yield* Sessions
  const { settings } = yield* Settings
  const owner = ownerOf(settings)
  const home = settings.home

  /** The parent's current run and published ChromaDB port, if it runs (warm workers join its namespace). */
  const currentParent = Effect.map(engine.inspectContainer(parentName(settings.instance)), (p) =>
    Option.flatMap(
      Option.filter(p, (c) => c.State.Running && ownershipOf(c.Config.Labels, owner) === "ours"),
      (c): Option.Option<ParentRun & { readonly port: number }> =>
        Option.map(Option.fromNullable(publishedPort(c)), (port) => ({ port, id: c.Id, startedAt: c.State.StartedAt ?? "" }))
    )
  )

  const defaultShape = (
    projectDir: string,
    parent: ParentRun & { readonly port: number },
    projectOwner: { readonly uid: number; readonly gid: number },
    on?: { readonly image: string; readonly profile: string }
  ) => poolShape(settings, projectDir, parent, projectOwner, on)

  const observe = Effect.gen(function* () {
    const [containers, claims] = yield* Effect.all([engine.listContainers(ownerFilter(owner, "warm")), readClaims(home)])
    return containers.map((c): ObservedWarm & { spec: string; limits: string } => {
      const slot = c.Labels[LABEL.slot] ?? ""
      return {
        id: c.Id,
        name: c.Names[0]?.replace(/^\//, "") ?? c.Id,
        slot,
        project: c.Labels[LABEL.project] ?? "",
        spec: c.Labels[LABEL.spec] ?? "",
        limits: c.Labels[LABEL.limits] ?? "",
        parentRun: parentRunOfLabels(c.Labels),
        running: c.State === "running",
        ended: c.State === "exited" || c.State === "dead",
        createdAtMs: c.Created * 1000,
        claimedBy: claims.get(slot)?.by
      }
    })
  })

  /** A project's profile image as its default spawn would choose it (detected; base while its image is not built). */
  const profileOf = (project: string) =>
    Effect.orElseSucceed(
      Effect.flatMap(Either.match(chooseProfile(undefined, project, home), { onLeft: Effect.fail, onRight: Effect.succeed }), (choice) =>
        imageForProfile(engine, settings.workerImage, choice)
      ),
      () => ({ image: settings.workerImage, profile: "base" })
    )

  /** A warm worker that is ready, or none: a failure or an interrupt at any step discards what was created. */
  const createWarm = (project: string, parent: ParentRun & { readonly port: number }) =>
    Effect.gen(function* () {
      yield* requireLocalEngine(engine.address, "a warm worker")
      const st = yield* hostFile(project, "read the owner of", () => statSync(project))
      const w = yield* acquireWorker(engine, home, defaultShape(project, parent, st, yield* profileOf(project)))
      yield* engine.startContainer(w.id)
      // Ready means waiting on its FIFO: only then can a claim hand it a session at once.
      if (!(yield* waitReady(home, w.slot, 30_000))) {
        return yield* new StateError({ path: slotDir(home, w.slot), operation: "wait for the warm worker in", detail: "its entrypoint never opened the claim FIFO (see: docker logs)" })
      }
      return w
    }).pipe(Effect.scoped)

  /** Remove a warm worker nobody serves; the manager takes the claim first so a spawn cannot get it meanwhile. */
  const removeWarm = (id: string, slot: string, alreadyClaimed: boolean) =>
    Effect.gen(function* () {
      if (!alreadyClaimed && !(yield* tryClaim(home, slot, "reaper"))) return false
      yield* engine.removeContainer(id, { force: true })
      yield* removeSlot(home, slot)
      yield* releaseClaim(home, slot)
      return true
    })

  /**
   * Give a claimed warm worker its session's name and record; `current` is the name it was last seen with. The
   * rename and the inspect for the record run in parallel (this is the end of every warm spawn), and the record takes
   * the new name when the rename succeeded. A failed rename (another claudy renamed it first, or it is gone) is
   * followed by a fresh inspect, so the record never keeps a name the container no longer has.
   */
  const adopt = (id: string, session: string, current: string) =>
    Effect.gen(function* () {
      const name = workerContainerName(settings.instance, session)
      const rename =
        current === name ? Effect.succeed(false) : engine.renameContainer(id, name).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
      const [renamed, seen] = yield* Effect.all([rename, engine.inspectContainer(id)], { concurrency: "unbounded" })
      const c = renamed
        ? Option.map(seen, (v) => ({ ...v, Name: `/${name}` }))
        : Option.exists(seen, (v) => v.Name === `/${name}`)
          ? seen
          : yield* engine.inspectContainer(id)
      if (Option.isSome(c)) yield* sessions.syncOne(c.value, undefined, session)
    })

  const act = (a: PoolAction, parent: Option.Option<ParentRun & { readonly port: number }>) => {
    switch (a._tag) {
      case "create":
        return Option.match(parent, {
          onNone: () => Effect.void,
          onSome: (p) => Effect.asVoid(createWarm(a.project, p))
        })
      case "remove":
        return Effect.asVoid(removeWarm(a.id, a.slot, a.reason === "abandoned"))
      case "adopt":
        return adopt(a.id, a.session, a.name)
    }
  }

  /** Projects to keep warm: those named with `pool warm`, then those recently spawned with the default shape. */
  const knownProjects = Effect.map(Effect.all([readProjects(home), readSpawns(home)]), ([explicit, spawns]) => {
    const learned = spawns.filter((e) => e.poolable).reverse().map((e) => e.project)
    return [...new Set([...explicit, ...learned])]
      .filter((p) => {
        try {
          return statSync(p).isDirectory()
        } catch {
          return false
        }
      })
      .slice(0, Math.max(1, settings.maxWarmWorkers))
  })

  const mirror = Effect.gen(function* () {
    const observed = yield* observe
    const entries: Array<MirrorEntry> = observed.map((w) => ({
      name: w.name,
      id: w.id,
      slot: w.slot,
      spec: w.spec,
      project: w.project,
      state: w.running ? "running" : "stopped",
      created_at: new Date(w.createdAtMs).toISOString(),
      claimed_by: w.claimedBy ?? null
    }))
    yield* syncMirror(home, entries)
    return entries
  })

  /**
   * Slot directories whose container is gone (a crash between creating the slot and the container, or a container
   * removed behind claudy's back). A slot younger than the grace period may belong to a spawn in progress.
   */
  const removeOrphanSlots = Effect.gen(function* () {
    const [containers, dirs] = yield* Effect.all([engine.listContainers(ownerFilter(owner)), listSlots(home)])
    const used = new Set(containers.map((c) => c.Labels[LABEL.slot]).filter(Boolean))
    const now = Date.now()
    for (const d of dirs) {
      if (!used.has(d.id) && now - d.mtimeMs > ORPHAN_SLOT_GRACE_MS) {
        yield* removeSlot(home, d.id)
        yield* releaseClaim(home, d.id)
        yield* Effect.logInfo(`removed orphan slot ${d.id}`)
      }
    }
  })

  /** One manager pass. Returns the actions taken. */
  const reconcile = (opts: { readonly extraProjects?: ReadonlyArray<string> } = {}) =>
    Effect.gen(function* () {
      const [observed, projects, target, parent] = yield* Effect.all([observe, knownProjects, readTarget(home), currentParent])
      const actions = planPool(observed, [...(opts.extraProjects ?? []), ...projects.filter((p) => !opts.extraProjects?.includes(p))], {
        target: Math.min(target ?? settings.minWarmWorkers, settings.maxWarmWorkers),
        max: settings.maxWarmWorkers,
        idleTimeoutMs: settings.idleTimeout * 1000,
        nowMs: Date.now(),
        parentRun: Option.match(parent, { onNone: () => undefined, onSome: parentRunKey })
      })
      // No retry here: the Engine retries what is transient, and a failed action is planned again on the next pass.
      yield* Effect.forEach(actions, (a) => act(a, parent), { concurrency: 4 })
      yield* removeOrphanSlots
      yield* mirror
      return { actions, parentRunning: Option.isSome(parent), projects }
    })

  /** Remove every idle (unclaimed) warm worker now. */
  const cleanup = Effect.gen(function* () {
    const observed = yield* observe
    const removed = yield* Effect.forEach(
      observed.filter((w) => w.claimedBy === undefined),
      (w) => removeWarm(w.id, w.slot, false),
      { concurrency: 4 }
    )
    yield* mirror
    return removed.filter(Boolean).length
  })

  /** Remove idle warm workers beyond `target`, oldest first (scale down acts at once, not after IDLE_TIMEOUT). */
  const trimTo = (target: number) =>
    Effect.gen(function* () {
      const idle = (yield* observe).filter((w) => w.claimedBy === undefined && w.running).sort((a, b) => a.createdAtMs - b.createdAtMs)
      const extra = idle.slice(0, Math.max(0, idle.length - target))
      yield* Effect.forEach(extra, (w) => removeWarm(w.id, w.slot, false), { concurrency: 4 })
      yield* mirror
      return extra.length
    })

  /**
   * Try to hand the session to a warm worker of the same shape: host files only. A worker that does not take the
   * signal within 50 ms (it died) is removed and the next one tried; after `maxDead` such workers, or when none is
   * left, None (the caller spawns cold). Claims lost to another spawn cost one failed O_EXCL create and are not
   * counted: a cap in time was, and a spawn descheduled under load went cold with a warm worker free.
   */
  const claim = (shape: WorkerShape, handoff: SessionHandoff, beforeSignal: (c: Claimed) => Effect.Effect<void, unknown>, maxDead = 2) =>
    Effect.gen(function* () {
      const fp = workerFingerprint(shape)
      const candidates = (yield* readMirror(home)).filter((e) => e.spec === fp && e.claimed_by === null && e.state === "running")
      let dead = 0
      for (const c of candidates) {
        if (dead >= maxDead) break
        const claimed = { id: c.id, name: c.name, slot: c.slot }
        // Once claimed the worker is ours: unless the session was handed over, it is removed — also when the hand-off
        // fails (a stale mirror entry whose slot is gone) or the spawn is interrupted, even right after the claim.
        const handedOver = yield* Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(tryClaim(home, c.slot, handoff.session), (won): Effect.Effect<boolean | "lost", StateError> =>
            !won
              ? Effect.succeed("lost" as const)
              : restore(
                  Effect.gen(function* () {
                    yield* writeHandoff(home, c.slot, handoff)
                    yield* beforeSignal(claimed)
                    return yield* signalSlot(home, c.slot, 50)
                  })
                ).pipe(
                  // A worker that is gone (its slot too: ENOENT) is dead, and the next one is tried; a disk that cannot
                  // take the hand-off (full, read-only) fails the spawn with that error, it is not turned into a cold start.
                  Effect.catchAll((e) => (e instanceof StateError && e.code !== "ENOENT" ? Effect.fail(e) : Effect.succeed(false))),
                  Effect.onExit((exit) =>
                    Exit.isSuccess(exit) && exit.value ? Effect.void : removeWarm(c.id, c.slot, true).pipe(Effect.ignore)
                  )
                )
          )
        )
        if (handedOver === "lost") continue
        if (handedOver) return Option.some(claimed)
        dead++
      }
      return Option.none<Claimed>()
    })

  return { observe, reconcile, cleanup, trimTo, claim, adopt, createWarm, currentParent, defaultShape, profileOf, mirror, knownProjects }
})

export class Pool extends Context.Tag("claudy/Pool")<Pool, Effect.Effect.Success<typeof make>>() {
  /** The service from its dependencies (cli/services.ts builds them all this way, in one layer). */
  static make = make
  static layer = Layer.effect(Pool, make)
}

export type PoolError = EngineError
