/**
 * Evidence that a session hit a limit, from the places that know: the engine's event log (`oom` events, kept by
 * dockerd in memory) and the container's pids cgroup (`pids.events`: how many forks the limit refused). Neither is
 * guessed from exit code 137 alone. The cgroup is readable only on the engine's own host while the container lives.
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import type { EngineShape } from "../docker/Engine.ts"
import type { ContainerInspect } from "../docker/types.ts"
import type { LimitEvidence } from "./record.ts"

const PIDS_EVENTS = (id: string) => [
  `/sys/fs/cgroup/pids/docker/${id}/pids.events`, // cgroup v1, cgroupfs driver
  `/sys/fs/cgroup/pids/system.slice/docker-${id}.scope/pids.events`, // cgroup v1, systemd driver
  `/sys/fs/cgroup/docker/${id}/pids.events`, // cgroup v2, cgroupfs driver
  `/sys/fs/cgroup/system.slice/docker-${id}.scope/pids.events` // cgroup v2, systemd driver
]

/** `max N` from pids.events text (pure). */
export const pidsMaxHits = (text: string): number | undefined => {
  const m = /^max\s+(\d+)/m.exec(text)
  return m ? Number(m[1]) : undefined
}

// The layout that answered last is tried first: one host has one layout, and `sessions list` reads this for every
// running session (100 workers: 300 failed opens before, 100 reads now).
let lastLayout = 0

const readPidsEvents = (id: string) =>
  Effect.sync(() => {
    const paths = PIDS_EVENTS(id)
    for (let i = 0; i < paths.length; i++) {
      const layout = (lastLayout + i) % paths.length
      try {
        const hits = pidsMaxHits(readFileSync(paths[layout]!, "utf8"))
        lastLayout = layout
        return hits
      } catch {
        // try the next layout
      }
    }
    return undefined
  })

/** The pids cgroup's refused-fork count of a running container on this host, if readable. */
export const pidsHitsOf = (engine: EngineShape, id: string) =>
  engine.address._tag === "unix" ? readPidsEvents(id) : Effect.succeed(undefined)

export const limitEvidence = (engine: EngineShape, c: ContainerInspect): Effect.Effect<LimitEvidence> =>
  Effect.all(
    {
      oomEvent: c.State.Running
        ? Effect.succeed(false)
        : engine
            .events({ container: [c.Id], event: ["oom"] }, Math.floor(Date.parse(c.Created) / 1000))
            .pipe(
              Effect.map((events) => events.length > 0),
              Effect.orElseSucceed(() => false)
            ),
      pidsMaxHits: engine.address._tag === "unix" && c.State.Running ? readPidsEvents(c.Id) : Effect.succeed(undefined)
    },
    { concurrency: "unbounded" }
  )
