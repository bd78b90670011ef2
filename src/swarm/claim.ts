/**
 * A warm claim on a swarm, the compare-and-swap of the pool (poolView.ts has the pure part): read the free warm
 * services of the wanted shape, then update one's labels at the version read. The swarm's store accepts exactly one
 * update per version: the winner owns the worker and hands it the session (through the worker's stdin, on its node's
 * engine: no host file); a loser tries the next one. None left: the caller spawns cold.
 */
import { Effect, Exit, Option } from "effect"
import { SessionNameTaken } from "../domain/errors.ts"
import { LABEL, type Owner, ownerFilter } from "../domain/labels.ts"
import type { SwarmApi } from "./api.ts"
import { claimedSpec, claimOrder, WARM_LABEL, type WarmService, warmServices } from "./poolView.ts"

/** Every warm service of this owner, free or claimed, with its task and node (three calls in parallel). */
export const observeWarm = (api: SwarmApi, owner: Owner) =>
  Effect.map(
    Effect.all(
      [
        api.services({ label: [...ownerFilter(owner).label, WARM_LABEL] }),
        // A task carries the labels its service had when the task was made: owner and warm (free) both hold.
        api.tasks({ label: ownerFilter(owner).label, "desired-state": ["running"] }),
        api.nodes()
      ],
      { concurrency: "unbounded" }
    ),
    ([services, tasks, nodes]) => warmServices(services, tasks, nodes)
  )

export interface ClaimedWarm {
  readonly id: string
  readonly name: string
  /** the node its task runs on (its engine takes the hand-off) and that node's hostname */
  readonly node: string
  readonly hostname: string
  readonly containerId: string
}

/**
 * The label-only update at the observed version: true when this spawn won the worker, false when another update came
 * first (ServiceUpdateConflict) or the service is gone. Any other failure (the manager unreachable) fails the claim.
 */
export const tryClaim = (api: SwarmApi, w: WarmService, session: string) =>
  api.updateService(w.id, w.version, claimedSpec(w.spec, session)).pipe(
    Effect.as(true),
    Effect.catchIf(
      (e) => e._tag === "ServiceUpdateConflict" || (e._tag === "DockerApiError" && e.status === 404),
      () => Effect.succeed(false)
    )
  )

/**
 * A session name is one service's. A cold spawn holds its name by the service's name; a claim holds it by a label, so
 * after winning a worker it looks for another service with the session's label: one there (a concurrent spawn of
 * the same name got there first, or both labelled at once) and this claim yields — its worker is removed untouched and
 * the spawn fails as a cold one whose name was taken. Two claims of one name can both yield; never both keep it.
 */
const onlyOne = (api: SwarmApi, owner: Owner, mine: WarmService, session: string) =>
  Effect.flatMap(
    Effect.orElseSucceed(api.services({ label: [...ownerFilter(owner).label, `${LABEL.session}=${session}`] }), () => []),
    (all) => {
      const other = all.find((s) => s.ID !== mine.id)
      return other === undefined
        ? Effect.void
        : Effect.fail(
            new SessionNameTaken({
              name: session,
              container: other.Spec.Name,
              project: other.Spec.Labels?.[LABEL.project] ?? "",
              state: "just started by another claudy"
            })
          )
    }
  )

/**
 * Claim a free warm worker of `fingerprint` (on `node`, when given) for `session` and hand it over with `handOver`. A worker won but not
 * handed over (its container gone, its node's engine not answering, or the spawn interrupted right after the claim) is
 * removed, and the next one tried; after `maxDead` of those, or when none is left, None: the caller spawns cold.
 * Claims lost to another spawn cost one refused update each and are not counted.
 */
export const claimWarm = <E, R>(
  api: SwarmApi,
  owner: Owner,
  fingerprint: string,
  session: string,
  handOver: (w: ClaimedWarm) => Effect.Effect<void, E, R>,
  node?: string | undefined,
  maxDead = 2
) =>
  Effect.gen(function* () {
    const candidates = claimOrder(yield* observeWarm(api, owner), fingerprint, Math.random, node)
    let dead = 0
    for (const c of candidates) {
      if (dead >= maxDead) break
      const claimed: ClaimedWarm = { id: c.id, name: c.name, node: c.task!.node, hostname: c.task!.hostname, containerId: c.task!.containerId! }
      const outcome = yield* Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(tryClaim(api, c, session), (won): Effect.Effect<boolean | "lost", SessionNameTaken, R> =>
          !won
            ? Effect.succeed("lost" as const)
            : restore(onlyOne(api, owner, c, session)).pipe(
                Effect.zipRight(
                  restore(handOver(claimed)).pipe(
                    Effect.as(true),
                    Effect.catchAllCause((cause) =>
                      Effect.as(Effect.logWarning(`warm worker ${c.name} on ${claimed.hostname} did not take session ${session}; removing it`, cause), false)
                    )
                  )
                ),
                // not handed over (or the name taken): the worker is removed, untouched or half-told
                Effect.onExit((exit) => (Exit.isSuccess(exit) && exit.value ? Effect.void : Effect.ignore(api.removeService(c.id))))
              )
        )
      )
      if (outcome === "lost") continue
      if (outcome) return Option.some(claimed)
      dead++
    }
    return Option.none<ClaimedWarm>()
  })

