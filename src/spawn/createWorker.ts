/** Create a worker container with its slot — the one path for cold spawns and warm pool workers alike. */
import { Effect, Exit, Option } from "effect"
import { randomBytes } from "node:crypto"
import type { EngineShape } from "../docker/Engine.ts"
import { createSlot, removeSlot } from "../pool/slot.ts"
import { claudeHomeFor, ensureClaudeHomeVolume, markerFile, markerUid, prepareClaudeHome, readMarker } from "./claudeHome.ts"
import type { RecordSource } from "../sessions/record.ts"
import { VERSION } from "../version.ts"
import { warmContainerName, type WorkerShape, workerContainerName, workerSpec } from "./workerSpec.ts"

export const newSlotId = () => randomBytes(6).toString("hex")

/**
 * `session` given: a cold worker named after it; absent: a warm one named after its slot. The slot is removed again
 * if the container cannot be created. Returns the container id, name and slot.
 */
export const createWorker = (engine: EngineShape, home: string, shape: WorkerShape, session?: string) =>
  Effect.gen(function* () {
    // Before the create: the engine would otherwise make the volume itself, unlabelled. The uid's own Claude home.
    const homeOf = claudeHomeFor(shape.owner.instance, markerUid(readMarker(markerFile(home))), shape.user.uid)
    const claudeHome = yield* ensureClaudeHomeVolume(engine, shape.owner, homeOf.volume)
    const slot = newSlotId()
    const slotDir = yield* createSlot(home, slot)
    const spec = workerSpec(Option.isSome(claudeHome) ? { ...shape, claudeHome: homeOf.volume } : { ...shape, withoutClaudeHome: true }, {
      role: session === undefined ? "warm" : "worker",
      name: session === undefined ? warmContainerName(shape.owner.instance, slot) : workerContainerName(shape.owner.instance, session),
      slot,
      slotDir,
      session,
      version: VERSION
    })
    // the engine stamps its own creation time within this call; a record made from `createdAs` carries this one
    const createdAt = new Date().toISOString()
    const { Id } = yield* engine.createContainer(spec.name, spec.createBody).pipe(
      Effect.tapError(() => removeSlot(home, slot).pipe(Effect.ignore))
    )
    const created = { id: Id, name: spec.name, slot, fingerprint: spec.fingerprint, createdAs: createdAs(Id, spec, createdAt) }
    // After the create: its image is present now, and the helper needs one with a shell.
    if (Option.isSome(claudeHome)) {
      yield* prepareClaudeHome(engine, home, shape.owner, shape.image, shape.user, claudeHome.value, homeOf.markerUid).pipe(
        Effect.tapError(() => discardWorker(engine, home, created))
      )
    }
    return created
  })

/**
 * The container as this create made it, in an inspect's terms (pure): what a session's record is made of, so a spawn
 * records its session without asking the engine again (an inspect beside the start cost a served spawn ≈ 5 % of its
 * time, measured). Running: it is recorded once its start succeeded.
 */
export const createdAs = (id: string, spec: ReturnType<typeof workerSpec>, createdAt: string): RecordSource => ({
  Id: id,
  Name: `/${spec.name}`,
  Created: createdAt,
  Config: { Image: spec.createBody.Image, Labels: spec.createBody.Labels },
  HostConfig: { NetworkMode: spec.createBody.HostConfig.NetworkMode },
  State: { Running: true }
})

/** Undo `createWorker`: remove the container and its slot (the cleanup of a spawn or warm start that failed). */
export const discardWorker = (engine: EngineShape, home: string, w: { readonly id: string; readonly slot: string }) =>
  Effect.all([engine.removeContainer(w.id, { force: true }), removeSlot(home, w.slot)]).pipe(Effect.ignore)

/**
 * `createWorker` as a resource of the enclosing scope: the create runs uninterruptibly (Ctrl-C or SIGTERM waits for
 * the engine's answer, bounded by the call's deadline, so no container exists that nobody knows of), and the worker
 * is discarded when the scope closes with a failure or an interrupt. A scope that succeeds keeps it: the session was
 * handed over, or the warm worker is ready.
 */
export const acquireWorker = (engine: EngineShape, home: string, shape: WorkerShape, session?: string) =>
  Effect.acquireRelease(createWorker(engine, home, shape, session), (w, exit) =>
    Exit.isSuccess(exit) ? Effect.void : discardWorker(engine, home, w)
  )
