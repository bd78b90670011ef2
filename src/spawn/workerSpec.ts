/**
 * A worker's create body, decided from the request alone (pure). Hardened by default: the image's non-root user,
 * every capability dropped, no-new-privileges, memory/cpu/pids limits, no Docker socket, the project bind-mounted at
 * /workspace from its resolved host path, and the API key as a read-only file rather than an environment variable.
 */
import { fingerprint, LABEL, type Owner, ownerLabels } from "../domain/labels.ts"
import { parentName } from "../domain/names.ts"
import type { Limits } from "./limits.ts"

/** The image's own non-root user (`claude`, whose home is /home/claude). */
export const IMAGE_USER = { uid: 1000, gid: 1000 }

/**
 * The worker runs as the owner of the project directory, so what it writes in /workspace belongs to the right host
 * user and it can read a project that is not world-readable. A root-owned project never makes the worker root: it
 * then runs as the image's user (pure).
 */
export const workerUser = (owner: { readonly uid: number; readonly gid: number }) =>
  owner.uid === 0 ? IMAGE_USER : { uid: owner.uid, gid: owner.gid }
export const SECRET_TARGET = "/run/claudy-secrets/anthropic_api_key"
export const WORKSPACE = "/workspace"

export const workerContainerName = (instance: string, session: string) => `${instance}-worker-${session}`

export interface WorkerRequest {
  readonly owner: Owner
  readonly session: string
  readonly image: string
  readonly projectDir: string
  readonly limits: Limits
  readonly viaParent: boolean
  readonly chromadbPort: number
  /** user-given KEY=VALUE pairs */
  readonly env: ReadonlyArray<string>
  /** empty: the image's default command (claude) */
  readonly command: ReadonlyArray<string>
  readonly user: { readonly uid: number; readonly gid: number }
  readonly tty: boolean
  readonly interactive: boolean
  /** host path of the API key file, if there is a key */
  readonly secretFile?: string | undefined
  readonly version: string
}

export const networkModeOf = (r: Pick<WorkerRequest, "viaParent" | "owner">) =>
  r.viaParent ? `container:${parentName(r.owner.instance)}` : "bridge"

/** What makes two workers interchangeable (the warm pool matches on it): not the session, command or tty. */
export const workerFingerprint = (r: WorkerRequest) =>
  fingerprint({
    image: r.image,
    project: r.projectDir,
    limits: r.limits,
    network: networkModeOf(r),
    env: [...r.env].sort(),
    user: r.user,
    secret: r.secretFile !== undefined
  })

export const limitsLabel = (l: Limits) =>
  JSON.stringify({
    enabled: l.enabled,
    memory: l.memory?.raw ?? null,
    cpus: l.cpus?.raw ?? null,
    pids_limit: l.pidsLimit === null ? null : String(l.pidsLimit)
  })

export const workerSpec = (r: WorkerRequest) => {
  const network = networkModeOf(r)
  const env = [
    `HAL9000_SESSION=${r.session}`,
    ...(r.viaParent
      ? [`CHROMADB_HOST=localhost`, `CHROMADB_PORT=${r.chromadbPort}`, `CHROMADB_URL=http://localhost:${r.chromadbPort}`]
      : []),
    ...(r.secretFile !== undefined ? [`ANTHROPIC_API_KEY_FILE=${SECRET_TARGET}`] : []),
    ...r.env
  ]
  const spec = workerFingerprint(r)
  const mounts = [
    { Type: "bind", Source: r.projectDir, Target: WORKSPACE, ReadOnly: false },
    ...(r.secretFile !== undefined ? [{ Type: "bind", Source: r.secretFile, Target: SECRET_TARGET, ReadOnly: true }] : [])
  ]
  const l = r.limits
  return {
    name: workerContainerName(r.owner.instance, r.session),
    network,
    fingerprint: spec,
    createBody: {
      Image: r.image,
      User: `${r.user.uid}:${r.user.gid}`,
      WorkingDir: WORKSPACE,
      Env: env,
      ...(r.command.length > 0 ? { Cmd: [...r.command] } : {}),
      Tty: r.tty,
      OpenStdin: true,
      StdinOnce: r.interactive,
      AttachStdin: r.interactive,
      AttachStdout: r.interactive,
      AttachStderr: r.interactive,
      Labels: {
        ...ownerLabels(r.owner, "worker", r.version),
        [LABEL.session]: r.session,
        [LABEL.project]: r.projectDir,
        [LABEL.spec]: spec,
        [LABEL.limits]: limitsLabel(l),
        [LABEL.parent]: r.viaParent ? parentName(r.owner.instance) : ""
      },
      HostConfig: {
        NetworkMode: network,
        Mounts: mounts,
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        // Another uid than the image's cannot write /home/claude: give it a private, empty home instead.
        ...(r.user.uid !== IMAGE_USER.uid ? { Tmpfs: { "/home/claude": `uid=${r.user.uid},gid=${r.user.gid},mode=0700` } } : {}),
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
