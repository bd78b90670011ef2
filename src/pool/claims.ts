/**
 * Claims: HAL9000_HOME/pool/claims/<slot>, created with O_EXCL, so exactly one process wins a warm worker — a spawn,
 * or the manager reaping it. Docker cannot relabel a running container, so for a claimed warm worker this file is the
 * truth of which session it serves.
 */
import { Effect } from "effect"
import { linkSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { LABEL } from "../domain/labels.ts"
import { createExclusive, errnoOf, hostFile, listDir, writeNewFileSync } from "../state/hostFile.ts"
import { dependsOnFile } from "../server/WarmState.ts"

export const claimsDir = (home: string) => join(home, "pool", "claims")

export interface Claim {
  readonly slot: string
  /** the session it serves, or `reaper` when the manager took it to remove it */
  readonly by: string
  readonly pid: number
  readonly at: string
}

/**
 * true when this call created the claim (and so owns the worker), false when another process holds it (the lost
 * race: link() found the name taken). Any other failure (a full, read-only or unwritable disk) is a StateError: a
 * spawn reports it rather than quietly going cold.
 */
export const tryClaim = (home: string, slot: string, by: string) =>
  Effect.gen(function* () {
    const dir = claimsDir(home)
    // Written complete first, then linked into place: link() fails if the claim exists, so exactly one process
    // wins, and nobody ever reads a half-written claim.
    const tmp = join(dir, `.${slot}.${process.pid}.${Math.random().toString(36).slice(2)}`)
    yield* hostFile(tmp, "write the claim", () => {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      writeNewFileSync(tmp, JSON.stringify({ slot, by, pid: process.pid, at: new Date().toISOString() } satisfies Claim))
    })
    const claim = join(dir, slot)
    return yield* createExclusive(claim, "claim the warm worker", () => linkSync(tmp, claim)).pipe(
      Effect.ensuring(Effect.ignore(hostFile(tmp, "remove", () => rmSync(tmp, { force: true }))))
    )
  })

export const releaseClaim = (home: string, slot: string) =>
  hostFile(join(claimsDir(home), slot), "release the claim", () => rmSync(join(claimsDir(home), slot), { force: true }))

/** Every claim; an unreadable one (only possible from an older claudy or a damaged disk) reads as "unknown". */
export const readClaims = (home: string) =>
  // a served status is reused only while the claims are as read here (server/replies.ts)
  Effect.map(Effect.zipRight(dependsOnFile(claimsDir(home)), listDir(claimsDir(home), "read the claims in")), (names) => {
    const out = new Map<string, Claim>()
    for (const slot of names.filter((n) => !n.startsWith("."))) {
      try {
        const c = JSON.parse(readFileSync(join(claimsDir(home), slot), "utf8")) as Claim
        out.set(slot, { ...c, slot })
      } catch (e) {
        // released between the listing and the read: not a claim any more
        if (errnoOf(e) !== "ENOENT") out.set(slot, { slot, by: "unknown", pid: 0, at: "" })
      }
    }
    return out
  })

/** The session a worker container serves: its label (cold) or its claim (warm); none for an idle warm worker. */
export const sessionOf = (labels: Record<string, string> | null | undefined, claims: ReadonlyMap<string, Claim>) => {
  if (labels?.[LABEL.role] === "worker") return labels[LABEL.session]
  const by = claims.get(labels?.[LABEL.slot] ?? "")?.by
  return by === undefined || by === "reaper" || by === "unknown" ? undefined : by
}
