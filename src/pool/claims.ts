/**
 * Claims: HAL9000_HOME/pool/claims/<slot>, created with O_EXCL, so exactly one process wins a warm worker — a spawn,
 * or the manager reaping it. Docker cannot relabel a running container, so for a claimed warm worker this file is the
 * truth of which session it serves.
 */
import { Effect } from "effect"
import { closeSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs"
import { join } from "node:path"
import { LABEL } from "../domain/labels.ts"

export const claimsDir = (home: string) => join(home, "pool", "claims")

export interface Claim {
  readonly slot: string
  /** the session it serves, or `reaper` when the manager took it to remove it */
  readonly by: string
  readonly pid: number
  readonly at: string
}

/** true when this call created the claim (and so owns the worker). */
export const tryClaim = (home: string, slot: string, by: string) =>
  Effect.sync(() => {
    mkdirSync(claimsDir(home), { recursive: true, mode: 0o700 })
    // Written complete first, then linked into place: link() fails if the claim exists, so exactly one process
    // wins, and nobody ever reads a half-written claim.
    const tmp = join(claimsDir(home), `.${slot}.${process.pid}.${Math.random().toString(36).slice(2)}`)
    const fd = openSync(tmp, "wx", 0o600)
    try {
      writeSync(fd, JSON.stringify({ slot, by, pid: process.pid, at: new Date().toISOString() } satisfies Claim))
    } finally {
      closeSync(fd)
    }
    try {
      linkSync(tmp, join(claimsDir(home), slot))
      return true
    } catch {
      return false
    } finally {
      rmSync(tmp, { force: true })
    }
  })

export const releaseClaim = (home: string, slot: string) =>
  Effect.sync(() => rmSync(join(claimsDir(home), slot), { force: true }))

/** Every claim; an unreadable one (only possible from an older claudy or a damaged disk) reads as "unknown". */
export const readClaims = (home: string) =>
  Effect.sync(() => {
    const out = new Map<string, Claim>()
    let names: Array<string> = []
    try {
      names = readdirSync(claimsDir(home))
    } catch {
      return out
    }
    for (const slot of names.filter((n) => !n.startsWith("."))) {
      try {
        const c = JSON.parse(readFileSync(join(claimsDir(home), slot), "utf8")) as Claim
        out.set(slot, { ...c, slot })
      } catch {
        out.set(slot, { slot, by: "unknown", pid: 0, at: "" })
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
