/**
 * A session's service runs one task at a time (one replica, never restarted): its newest task is the session.
 * Waiting for it to run is bounded; a task the swarm could not place or start is reported with the swarm's reason.
 */
import { Effect } from "effect"
import { AttachFailed } from "../domain/errors.ts"
import type { SwarmApi } from "./api.ts"
import type { SwarmTask } from "./types.ts"

/** States after which a task never runs again (swarmkit's TaskState past running). */
export const ENDED_STATES = new Set(["complete", "shutdown", "failed", "rejected", "remove", "orphaned"])

/** The newest task (pure): a service of one replica and restart none has one, unless it was updated. */
export const latestTask = (tasks: ReadonlyArray<SwarmTask>): SwarmTask | undefined =>
  [...tasks].sort((a, b) => (b.CreatedAt ?? "").localeCompare(a.CreatedAt ?? ""))[0]

/** Where a running task's container is. */
export interface Placed {
  readonly task: SwarmTask
  readonly nodeId: string
  readonly containerId: string
}

/** Why a task is not running (pure), in the swarm's words: "no suitable node (…)", "task: non-zero exit (1)", … */
export const taskProblem = (t: SwarmTask) => [t.Status.State, t.Status.Err ?? t.Status.Message].filter((s) => s !== undefined && s !== "").join(": ")

/** The task once it runs; fails with the swarm's reason if it ends first or is not placed and started within `ms`. */
export const awaitRunning = (api: SwarmApi, serviceId: string, session: string, ms: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + ms
    let last: SwarmTask | undefined
    for (;;) {
      last = latestTask(yield* api.tasks({ service: [serviceId] }))
      const id = last?.Status.ContainerStatus?.ContainerID
      if (last !== undefined && last.Status.State === "running" && last.NodeID !== undefined && id !== undefined && id !== "") {
        return { task: last, nodeId: last.NodeID, containerId: id } satisfies Placed
      }
      if (last !== undefined && ENDED_STATES.has(last.Status.State)) {
        return yield* new AttachFailed({ session, detail: `its worker did not start (${taskProblem(last)})` })
      }
      if (Date.now() > deadline) {
        return yield* new AttachFailed({
          session,
          detail: `its worker was not running within ${Math.round(ms / 1000)} s (${last === undefined ? "no task yet" : taskProblem(last)})`
        })
      }
      yield* Effect.sleep("100 millis")
    }
  })
