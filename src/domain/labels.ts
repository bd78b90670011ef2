/**
 * Docker labels are claudy's source of truth: everything it lists, adopts or removes is selected by these,
 * never by a name prefix. `home` keeps two HAL9000_HOMEs on one engine apart.
 */
import { createHash } from "node:crypto"

export const LABEL = {
  managed: "io.hal9000.managed",
  role: "io.hal9000.role",
  home: "io.hal9000.home",
  instance: "io.hal9000.instance",
  spec: "io.hal9000.spec",
  session: "io.hal9000.session",
  project: "io.hal9000.project",
  version: "io.hal9000.version",
  limits: "io.hal9000.limits",
  parent: "io.hal9000.parent",
  /** the parent container's id and start time when a via-parent worker joined it (its network namespace's run) */
  parentId: "io.hal9000.parent-id",
  parentStarted: "io.hal9000.parent-started",
  slot: "io.hal9000.slot",
  dockerfile: "io.hal9000.dockerfile",
  profile: "io.hal9000.profile",
  /** on a worker image whose entrypoint runs a session written before the start without a FIFO signal (recipes.ts) */
  handoff: "io.hal9000.handoff",
  /** a Claude home volume's identity, set at its creation (its CreatedAt is its directory's mtime: it moves) */
  volumeId: "io.hal9000.volume-id"
} as const

export type Role = "parent" | "worker" | "warm" | "volume" | "image" | "helper"

export interface Owner {
  readonly instance: string
  /** hash of the resolved HAL9000_HOME */
  readonly home: string
}

export const homeHash = (resolvedHome: string) => createHash("sha256").update(resolvedHome).digest("hex").slice(0, 12)

export const ownerLabels = (owner: Owner, role: Role, version: string): Record<string, string> => ({
  [LABEL.managed]: "true",
  [LABEL.role]: role,
  [LABEL.home]: owner.home,
  [LABEL.instance]: owner.instance,
  [LABEL.version]: version
})

/** Engine API `filters` selecting this owner's objects of one role. */
export const ownerFilter = (owner: Owner, role?: Role) => ({
  label: [
    `${LABEL.managed}=true`,
    `${LABEL.home}=${owner.home}`,
    `${LABEL.instance}=${owner.instance}`,
    ...(role ? [`${LABEL.role}=${role}`] : [])
  ]
})

export type Ownership = "ours" | "other-home" | "foreign"

/** Whether labels found on an object make it ours, another claudy home's, or not claudy's at all. */
export const ownershipOf = (labels: Record<string, string> | null | undefined, owner: Owner): Ownership => {
  if (!labels || labels[LABEL.managed] !== "true") return "foreign"
  return labels[LABEL.home] === owner.home && labels[LABEL.instance] === owner.instance ? "ours" : "other-home"
}

export const describeOwner = (labels: Record<string, string> | null | undefined, ownership: Ownership) =>
  ownership === "foreign"
    ? "it has no io.hal9000.managed label"
    : `it belongs to another HAL9000_HOME (home ${labels?.[LABEL.home] ?? "?"})`

/** Short stable fingerprint of a JSON-able value. */
export const fingerprint = (value: unknown) =>
  createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16)
