/**
 * A worker's create body, decided from the request alone (pure). Hardened by default: a non-root user, every
 * capability dropped, no-new-privileges, memory/cpu/pids limits, no Docker socket, the project bind-mounted at
 * /workspace from its resolved host path. Cold and warm workers are created from the same spec; the session itself
 * (command, environment, API key) arrives later through the worker's slot (see pool/slot.ts).
 */
import { fingerprint, LABEL, type Owner, ownerLabels } from "../domain/labels.ts"
import { parentName, volumeName } from "../domain/names.ts"
import { CLAUDY_IN_WORKER, MEMORY_BANK_ROOT } from "../mcp/registrations.ts"
import { SLOT_TARGET } from "../pool/slot.ts"
import { VERSION } from "../version.ts"
import { claudeHomeMount, CLAUDE_CONFIG_DIR } from "./claudeHome.ts"
import type { Limits } from "./limits.ts"

/** The image's own non-root user (`claude`, whose home is /home/claude). */
export const IMAGE_USER = { uid: 1000, gid: 1000 }
export const WORKSPACE = "/workspace"
export const SECRET_TARGET = `${SLOT_TARGET}/anthropic_api_key`
/** Claude Code's config dir, the Claude home (its .claude.json holds the MCP registrations); CLAUDE_HOME the same. */
export { CLAUDE_CONFIG_DIR }
export const PLUGINS_TARGET = "/data/plugins"

/**
 * The worker runs as the owner of the project directory, so what it writes in /workspace belongs to the right host
 * user and it can read a project that is not world-readable. A root-owned project never makes the worker root: it
 * then runs as the image's user (pure).
 */
export const workerUser = (owner: { readonly uid: number; readonly gid: number }) =>
  owner.uid === 0 ? IMAGE_USER : { uid: owner.uid, gid: owner.gid }

export const workerContainerName = (instance: string, session: string) => `${instance}-worker-${session}`
export const warmContainerName = (instance: string, slot: string) => `${instance}-warm-${slot}`

/**
 * The parent container a via-parent worker joins, as it runs now: its network namespace lives as long as this run of
 * it, so a restart (same id, new start time) or a recreate (new id) leaves the workers of the earlier run without a
 * network. Recorded on every worker (labels) and part of the warm fingerprint: a warm worker of an earlier parent is
 * never claimed.
 */
export interface ParentRun {
  readonly id: string
  readonly startedAt: string
}

export const parentRunKey = (p: ParentRun | null | undefined) => (p ? `${p.id}@${p.startedAt}` : "")

/** The parent run a worker's labels name ("" when none, e.g. a worker of an older claudy or not via the parent). */
export const parentRunOfLabels = (labels: Record<string, string> | null | undefined) =>
  labels?.[LABEL.parentId] ? `${labels[LABEL.parentId]}@${labels[LABEL.parentStarted] ?? ""}` : ""

/** Everything that makes two workers interchangeable: a warm worker serves any session of the same shape. */
export interface WorkerShape {
  readonly owner: Owner
  readonly image: string
  /** the language profile the image is for (base: the worker image itself; null: an --image of the user's) */
  readonly profile: string | null
  readonly projectDir: string
  readonly limits: Limits
  readonly viaParent: boolean
  readonly chromadbPort: number
  /** the parent run a via-parent worker joins; null without --via-parent */
  readonly parent: ParentRun | null
  readonly user: { readonly uid: number; readonly gid: number }
  readonly tty: boolean
  /** the Claude home volume belongs to another HAL9000_HOME of this instance: none is mounted */
  readonly withoutClaudeHome?: boolean
  /** the Claude home volume this worker's uid uses (spawn/claudeHome.ts claudeHomeFor); the instance's by default */
  readonly claudeHome?: string
  /** The host's claudy executable, mounted read-only so `claudy mcp chroma` in the worker is the host's own build. */
  readonly claudyBinary: string | null
  /** HAL9000_EMBEDDING as written: the worker's chroma tools must embed like the host's. */
  readonly embedding: string
}

export const networkModeOf = (r: Pick<WorkerShape, "viaParent" | "owner">) =>
  r.viaParent ? `container:${parentName(r.owner.instance)}` : "bridge"

export const workerFingerprint = (r: WorkerShape) =>
  fingerprint({
    image: r.image,
    project: r.projectDir,
    limits: r.limits,
    network: networkModeOf(r),
    port: r.viaParent ? r.chromadbPort : null,
    parent: r.viaParent ? parentRunKey(r.parent) : null,
    user: r.user,
    tty: r.tty,
    memory: { binary: r.claudyBinary, version: VERSION, embedding: r.embedding, volumes: memoryMounts(r).map((m) => m.Source) },
    claudeHome: r.withoutClaudeHome === true ? null : claudeHomeMount(r.owner.instance, r.claudeHome).Source
  })

/**
 * The shared memory of every worker: the memory bank read-write (all workers share it), the plugins read-only (what
 * one worker loads, another must not change), the claudy binary read-only. ChromaDB's data volume stays in the
 * parent: the server owns it. The labels make a volume the engine creates here (no `daemon start` yet) claudy's.
 */
export const memoryMounts = (r: Pick<WorkerShape, "owner" | "claudyBinary">) => {
  const volume = (role: "memorybank" | "plugins", target: string, readOnly: boolean) => ({
    Type: "volume",
    Source: volumeName(r.owner.instance, role),
    Target: target,
    ReadOnly: readOnly,
    // NoCopy: an empty volume would otherwise take the image's directory, mode and all, at every worker's start
    // (seen: the memory bank reset to root's 0755, which the workers' uids cannot write).
    VolumeOptions: { NoCopy: true, Labels: ownerLabels(r.owner, "volume", VERSION) }
  })
  return [
    volume("memorybank", MEMORY_BANK_ROOT, false),
    volume("plugins", PLUGINS_TARGET, true),
    ...(r.claudyBinary === null ? [] : [{ Type: "bind", Source: r.claudyBinary, Target: CLAUDY_IN_WORKER, ReadOnly: true }])
  ]
}

/** What every worker's environment holds, local or on a swarm: where the workspace and the memory are. */
export const sharedWorkerEnv = (shape: Pick<WorkerShape, "embedding">) => [
  `WORKSPACE=${WORKSPACE}`,
  `MEMORY_BANK_ROOT=${MEMORY_BANK_ROOT}`,
  `CLAUDE_CONFIG_DIR=${CLAUDE_CONFIG_DIR}`,
  `CLAUDE_HOME=${CLAUDE_CONFIG_DIR}`,
  `HAL9000_EMBEDDING=${shape.embedding}`
]

/** The worker's environment: what users of the original expect, and where the memory is. */
export const workerEnv = (shape: WorkerShape) => [
  `CLAUDY_SLOT=${SLOT_TARGET}`,
  `ANTHROPIC_API_KEY_FILE=${SECRET_TARGET}`,
  ...sharedWorkerEnv(shape),
  ...(shape.viaParent
    ? [`CHROMADB_HOST=localhost`, `CHROMADB_PORT=${shape.chromadbPort}`, `CHROMADB_URL=http://localhost:${shape.chromadbPort}`]
    : [])
]

export const limitsLabel = (l: Limits) =>
  JSON.stringify({
    enabled: l.enabled,
    memory: l.memory?.raw ?? null,
    cpus: l.cpus?.raw ?? null,
    pids_limit: l.pidsLimit === null ? null : String(l.pidsLimit)
  })

/** The labels every worker carries, local container or swarm service: whose it is, which session, what shape. */
export const workerLabels = (
  shape: WorkerShape,
  id: { readonly role: "worker" | "warm"; readonly session?: string | undefined; readonly version: string },
  spec: string
): Record<string, string> => ({
  ...ownerLabels(shape.owner, id.role, id.version),
  ...(id.session !== undefined ? { [LABEL.session]: id.session } : {}),
  [LABEL.project]: shape.projectDir,
  [LABEL.spec]: spec,
  [LABEL.limits]: limitsLabel(shape.limits),
  [LABEL.profile]: shape.profile ?? "",
  [LABEL.parent]: shape.viaParent ? parentName(shape.owner.instance) : ""
})

export interface WorkerIdentity {
  /** `worker` for a cold spawn (named after its session), `warm` for a pool worker (named after its slot) */
  readonly role: "worker" | "warm"
  readonly name: string
  readonly slot: string
  readonly slotDir: string
  readonly session?: string | undefined
  readonly version: string
}

export const workerSpec = (shape: WorkerShape, id: WorkerIdentity) => {
  const network = networkModeOf(shape)
  const spec = workerFingerprint(shape)
  const l = shape.limits
  return {
    name: id.name,
    network,
    fingerprint: spec,
    createBody: {
      Image: shape.image,
      User: `${shape.user.uid}:${shape.user.gid}`,
      WorkingDir: WORKSPACE,
      Env: workerEnv(shape),
      Tty: shape.tty,
      OpenStdin: true,
      // Without a TTY (Makefiles, pipes) the session sees EOF when claudy's stdin ends.
      StdinOnce: !shape.tty,
      Labels: {
        ...workerLabels(shape, id, spec),
        [LABEL.slot]: id.slot,
        ...(shape.viaParent && shape.parent ? { [LABEL.parentId]: shape.parent.id, [LABEL.parentStarted]: shape.parent.startedAt } : {})
      },
      HostConfig: {
        NetworkMode: network,
        Mounts: [
          { Type: "bind", Source: shape.projectDir, Target: WORKSPACE, ReadOnly: false },
          { Type: "bind", Source: id.slotDir, Target: SLOT_TARGET, ReadOnly: true },
          ...memoryMounts(shape),
          ...(shape.withoutClaudeHome === true ? [] : [claudeHomeMount(shape.owner.instance, shape.claudeHome)])
        ],
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        // Another uid than the image's cannot write /home/claude: give it a private, empty home instead.
        ...(shape.user.uid !== IMAGE_USER.uid ? { Tmpfs: { "/home/claude": `uid=${shape.user.uid},gid=${shape.user.gid},mode=0700` } } : {}),
        ...(l.enabled
          ? {
              Memory: l.memory!.bytes,
              // no swap beyond the memory limit: a limit that swaps is not a limit
              MemorySwap: l.memory!.bytes,
              NanoCpus: l.cpus!.nanoCpus,
              PidsLimit: l.pidsLimit!
            }
          : {})
      }
    }
  }
}
