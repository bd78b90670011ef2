/**
 * Sessions: the labelled worker containers of this HAL9000_HOME and instance, reconciled with their records on every
 * read (container without record -> record rebuilt from labels; record without container -> marked `gone`).
 */
import { Context, Effect, Layer, Option } from "effect"
import { Settings } from "../config/Settings.ts"
import { ForeignObject, SessionNotFound } from "../domain/errors.ts"
import { describeOwner, LABEL, ownerFilter, ownershipOf } from "../domain/labels.ts"
import { Engine } from "../docker/Engine.ts"
import type { ContainerInspect } from "../docker/types.ts"
import { readClaims, releaseClaim, sessionOf } from "../pool/claims.ts"
import { removeSlot } from "../pool/slot.ts"
import { warmContainerName, workerContainerName } from "../spawn/workerSpec.ts"
import { containersKey, reusedAnswer } from "../server/WarmState.ts"
import { ownerOf } from "../state/home.ts"
import { limitEvidence, pidsHitsOf } from "./limitHits.ts"
import { recordFromContainer, type RecordSource, type SessionRecord, statusOf } from "./record.ts"
import { readRecords, removeRecord, type Skipped, writeRecord } from "./SessionStore.ts"

export interface SessionView {
  readonly record: SessionRecord
  /** the record was missing and has been rebuilt from the container's labels */
  readonly rebuilt: boolean
  readonly running: boolean
  readonly tty: boolean
}

const sameRecord = (a: SessionRecord, b: SessionRecord) =>
  JSON.stringify({ ...a, updated_at: "" }) === JSON.stringify({ ...b, updated_at: "" })

const make = Effect.gen(function* () {
  const engine = yield* Engine
  const { settings } = yield* Settings
  const owner = ownerOf(settings)
  const home = settings.home

  /** Bring one container's record up to date; returns the view. */
  const syncOne = (c: ContainerInspect, previous: SessionRecord | undefined, session?: string) =>
    Effect.gen(function* () {
      const evidence = yield* limitEvidence(engine, c)
      const record = recordFromContainer(c, statusOf(c, evidence, previous?.status), new Date().toISOString(), session)
      if (previous === undefined || !sameRecord(previous, record)) yield* writeRecord(home, record)
      return { record, rebuilt: previous === undefined, running: c.State.Running, tty: c.Config.Tty ?? false } satisfies SessionView
    })

  const list = Effect.gen(function* () {
    // The files are read while the engine answers the list (with 100 workers the list alone takes the engine ~15 ms).
    const [summaries, claims, { records, skipped }] = yield* Effect.all(
      [
        // in the control server, reused until an event of one of this owner's containers (as daemon status does)
        reusedAnswer(engine.address.display, containersKey(owner), engine.listContainers(ownerFilter(owner))),
        readClaims(home),
        readRecords(home, settings.instance)
      ],
      { concurrency: "unbounded" }
    )
    const serving = summaries.filter((s) => sessionOf(s.Labels, claims) !== undefined)
    const byName = new Map(records.map((r) => [r.name, r]))
    const views: Array<SessionView> = []
    // A record that already describes its container's state needs no inspect: with 100 workers this is the
    // difference between one engine call and a hundred. Running ones still get their pids cgroup read.
    const changed: Array<(typeof serving)[number]> = []
    for (const s of serving) {
      const name = sessionOf(s.Labels, claims)!
      const prev = byName.get(name)
      const settled =
        prev !== undefined &&
        prev.container_id === s.Id &&
        ((s.State === "running" && (prev.status === "running" || prev.status === "pids-limit-reached")) ||
          (s.State === "exited" && (prev.status === "exited" || prev.status === "oom-killed")))
      if (!settled) {
        changed.push(s)
        continue
      }
      if (s.State === "running" && prev.status === "running" && ((yield* pidsHitsOf(engine, s.Id)) ?? 0) > 0) {
        changed.push(s)
        continue
      }
      views.push({ record: prev, rebuilt: false, running: s.State === "running", tty: false })
      byName.delete(name)
    }
    const inspected = yield* Effect.forEach(changed, (s) => engine.inspectContainer(s.Id), { concurrency: 8 })
    for (const c of inspected) {
      if (Option.isNone(c)) continue // removed between list and inspect
      const name = sessionOf(c.value.Config.Labels, claims)!
      views.push(yield* syncOne(c.value, byName.get(name), name))
      byName.delete(name)
    }
    for (const r of byName.values()) {
      const gone: SessionRecord = r.status === "gone" ? r : { ...r, status: "gone", updated_at: new Date().toISOString() }
      if (gone !== r) yield* writeRecord(home, gone)
      views.push({ record: gone, rebuilt: false, running: false, tty: false })
    }
    views.sort((a, b) => a.record.created_at.localeCompare(b.record.created_at) || a.record.name.localeCompare(b.record.name))
    return { sessions: views, skipped: skipped as ReadonlyArray<Skipped> }
  })

  /** The container of a session, if it exists and is ours: by its name, or (a warm worker not yet renamed) its claim. */
  const container = (name: string) =>
    Effect.gen(function* () {
      const cname = workerContainerName(settings.instance, name)
      const claims = yield* readClaims(home)
      let found = yield* engine.inspectContainer(cname)
      if (Option.isNone(found)) {
        const claim = [...claims.values()].find((c) => c.by === name)
        if (claim === undefined) return Option.none<ContainerInspect>()
        found = yield* engine.inspectContainer(warmContainerName(settings.instance, claim.slot))
        if (Option.isNone(found)) return Option.none<ContainerInspect>()
      }
      const labels = found.value.Config.Labels
      const ownership = ownershipOf(labels, owner)
      if (ownership !== "ours" || sessionOf(labels, claims) !== name) {
        return yield* new ForeignObject({ kind: "container", name: cname, owner: describeOwner(labels, ownership) })
      }
      return found
    })

  const get = (name: string) =>
    Effect.gen(function* () {
      const { sessions } = yield* list
      const view = sessions.find((s) => s.record.name === name)
      if (view === undefined) return yield* new SessionNotFound({ name })
      return view
    })

  const requireContainer = (name: string) =>
    Effect.flatMap(container(name), Option.match({ onNone: () => Effect.fail(new SessionNotFound({ name })), onSome: Effect.succeed }))

  const stop = (name: string) =>
    Effect.gen(function* () {
      const c = yield* requireContainer(name)
      if (c.State.Running) yield* engine.stopContainer(c.Id, 10)
      return yield* get(name)
    })

  /** Remove the container (if any) and the record; a session that exists only as a record is removed too. */
  const remove = (name: string, force: boolean) =>
    Effect.gen(function* () {
      const c = yield* container(name)
      const { records } = yield* readRecords(home, settings.instance)
      if (Option.isNone(c) && !records.some((r) => r.name === name)) return yield* new SessionNotFound({ name })
      if (Option.isSome(c)) {
        if (c.value.State.Running && !force) yield* engine.stopContainer(c.value.Id, 10)
        yield* engine.removeContainer(c.value.Id, { force: true })
        const slot = c.value.Config.Labels?.[LABEL.slot]
        if (slot) yield* Effect.all([removeSlot(home, slot), releaseClaim(home, slot)])
      }
      yield* removeRecord(home, name)
    })

  /**
   * The record of a worker this process has just created and started, from what it created (createWorker's
   * `createdAs`: a detached spawn asks the engine nothing more): `running`; a session that has ended since is
   * corrected by the next list.
   */
  const recordStarted = (c: RecordSource, session: string) =>
    writeRecord(home, recordFromContainer(c, "running", new Date().toISOString(), session))

  return { list, get, container, requireContainer, stop, remove, syncOne, recordStarted, owner }
})

export class Sessions extends Context.Tag("claudy/Sessions")<Sessions, Effect.Effect.Success<typeof make>>() {
  /** The service from its dependencies (cli/services.ts builds them all this way, in one layer). */
  static make = make
  static layer = Layer.effect(Sessions, make)
}
