import { Data } from "effect"

/** A setting (env var or flag) has a value outside its accepted form. */
export class ConfigInvalid extends Data.TaggedError("ConfigInvalid")<{
  readonly variable: string
  readonly value: string
  readonly expected: string
  readonly source: "env" | "flag" | "kept"
}> {
  override get message() {
    const shown = this.value === "" ? "an empty string" : `'${this.value}'`
    return `${this.variable} is ${shown}: expected ${this.expected}`
  }
}

/** Two settings that are each valid but contradict each other. */
export class ConfigConflict extends Data.TaggedError("ConfigConflict")<{
  readonly variables: ReadonlyArray<string>
  readonly detail: string
}> {
  override get message() {
    return this.detail
  }
}

/** Bad command-line input that is not a single setting (e.g. an unsupported DOCKER_HOST scheme). */
export class UsageError extends Data.TaggedError("UsageError")<{
  readonly detail: string
  readonly fix: string
}> {
  override get message() {
    return this.detail
  }
}

export class DockerUnavailable extends Data.TaggedError("DockerUnavailable")<{
  readonly address: string
  readonly reason: string
}> {
  override get message() {
    return `Cannot connect to the Docker daemon at ${this.address}. Is the docker daemon running? (${this.reason})`
  }
}

/** The engine answered with an error status we did not expect. */
export class DockerApiError extends Data.TaggedError("DockerApiError")<{
  readonly operation: string
  readonly status: number
  readonly detail: string
}> {
  override get message() {
    return `Docker ${this.operation} failed (HTTP ${this.status}): ${this.detail}`
  }
}

/** An engine call got no answer within its deadline (a stuck or overloaded engine); what claudy was doing is named. */
export class DockerTimeout extends Data.TaggedError("DockerTimeout")<{
  readonly address: string
  readonly operation: string
  readonly seconds: number
}> {
  override get message() {
    return `The Docker engine at ${this.address} did not answer '${this.operation}' within ${this.seconds}s`
  }
}

/** The engine answered, but not in the form claudy reads (a field missing or of another type). */
export class DockerResponseInvalid extends Data.TaggedError("DockerResponseInvalid")<{
  readonly operation: string
  readonly detail: string
}> {
  override get message() {
    return `The Docker engine's answer to '${this.operation}' is not what claudy expects: ${this.detail}`
  }
}

export class ImageNotFound extends Data.TaggedError("ImageNotFound")<{
  readonly image: string
  readonly role: "parent" | "worker"
  readonly pullError?: string
  /** the language profile whose image it is (profile images are built locally, never pulled) */
  readonly profile?: string
}> {
  override get message() {
    const why = this.pullError ? ` (pull failed: ${this.pullError})` : ""
    const of = this.profile ? ` (the ${this.profile} profile's image)` : ""
    return `Unable to find image '${this.image}' locally${of}${why}`
  }
}

export class ImageBuildFailed extends Data.TaggedError("ImageBuildFailed")<{
  readonly image: string
  readonly detail: string
}> {
  override get message() {
    return `Building image '${this.image}' failed: ${this.detail}`
  }
}

export class ParentNotRunning extends Data.TaggedError("ParentNotRunning")<{
  readonly container: string
  readonly state: string
}> {
  override get message() {
    return `Parent container '${this.container}' is not running`
  }
}

export class ParentUnhealthy extends Data.TaggedError("ParentUnhealthy")<{
  readonly container: string
  readonly url: string
  readonly reason: string
}> {
  override get message() {
    return `Parent container '${this.container}' is running but ChromaDB does not answer at ${this.url} (${this.reason})`
  }
}

/** The parent exists but was created from other settings; `--recreate` (or `restart`) applies the new ones. */
export class ParentConfigDiffers extends Data.TaggedError("ParentConfigDiffers")<{
  readonly container: string
  readonly differences: ReadonlyArray<string>
}> {
  override get message() {
    return `Parent container '${this.container}' runs with other settings than requested: ${this.differences.join("; ")}`
  }
}

export class ChromaStartTimeout extends Data.TaggedError("ChromaStartTimeout")<{
  readonly container: string
  readonly seconds: number
  readonly url: string
  readonly logTail: ReadonlyArray<string>
  readonly likelyCause?: string
}> {
  override get message() {
    return `ChromaDB server failed to start within ${this.seconds}s`
  }
}

/** A host port we need is held by something else (ChromaDB's published port, or daemon run's health server). */
export class PortInUse extends Data.TaggedError("PortInUse")<{
  readonly port: number
  readonly holder: string
  /** the address, when not 127.0.0.1 */
  readonly host?: string
  /** the setting that chooses it; CHROMADB_PORT when absent */
  readonly setting?: "HAL9000_HTTP_ADDR"
}> {
  override get message() {
    return `Port ${this.port} on ${this.host ?? "127.0.0.1"} is already in use by ${this.holder}`
  }
}

/** `pool stop` (or `reset`) found the pool loop running inside `claudy daemon run`, which it does not stop. */
export class PoolLoopSupervised extends Data.TaggedError("PoolLoopSupervised")<{ readonly pid: number }> {
  override get message() {
    return `The pool loop runs inside \`claudy daemon run\` (pid ${this.pid}) and stops only with it; nothing was stopped`
  }
}

/** A container, volume, swarm service or network with our name exists but claudy (this HAL9000_HOME) did not create it. */
export class ForeignObject extends Data.TaggedError("ForeignObject")<{
  readonly kind: "container" | "volume" | "service" | "network"
  readonly name: string
  readonly owner: string
}> {
  override get message() {
    return `A ${this.kind} named '${this.name}' exists but was not created by this claudy (${this.owner}); claudy will not touch it`
  }
}

/** A host file operation failed (or a file-based lock is held); `code` is the system error, `fix` what to do. */
export class StateError extends Data.TaggedError("StateError")<{
  readonly path: string
  readonly operation: string
  readonly detail: string
  readonly code?: string
  readonly fix?: string
}> {
  override get message() {
    return `Cannot ${this.operation} ${this.path}: ${this.detail}`
  }
}

export type ClaudyError =
  | ConfigInvalid
  | ConfigConflict
  | UsageError
  | DockerUnavailable
  | DockerApiError
  | DockerTimeout
  | DockerResponseInvalid
  | ImageNotFound
  | ImageBuildFailed
  | ParentNotRunning
  | ParentUnhealthy
  | ParentConfigDiffers
  | ChromaStartTimeout
  | PortInUse
  | PoolLoopSupervised
  | ForeignObject
  | StateError
  | SessionNameTaken
  | SessionNotFound
  | AttachFailed
  | BackupInvalid
  | HelperFailed
  | LimitsNotEnforced
  | SwarmUnavailable
  | SwarmNodeUnreachable
  | ServiceUpdateConflict

/** Ends the command with a code after it has printed its own output (e.g. `daemon status` when unhealthy). */
export class SilentExit extends Data.TaggedError("SilentExit")<{ readonly code: number }> {}

export class SessionNameTaken extends Data.TaggedError("SessionNameTaken")<{
  readonly name: string
  readonly container: string
  readonly project: string
  readonly state: string
}> {
  override get message() {
    return `Session name '${this.name}' is taken by container ${this.container} (${this.state}, project ${this.project || "unknown"})`
  }
}

export class SessionNotFound extends Data.TaggedError("SessionNotFound")<{ readonly name: string }> {
  override get message() {
    return `No session named '${this.name}'`
  }
}

export class AttachFailed extends Data.TaggedError("AttachFailed")<{ readonly session: string; readonly detail: string }> {
  override get message() {
    return `Cannot attach to session '${this.session}': ${this.detail}`
  }
}

export class BackupInvalid extends Data.TaggedError("BackupInvalid")<{ readonly path: string; readonly problem: string }> {
  override get message() {
    return `Refusing to restore ${this.path}: ${this.problem}. Nothing was changed`
  }
}

export class HelperFailed extends Data.TaggedError("HelperFailed")<{ readonly task: string; readonly code: number; readonly output: string }> {
  override get message() {
    return `${this.task} failed (exit ${this.code}): ${this.output.trim().split("\n").slice(-3).join(" | ")}`
  }
}

/** The engine would accept the worker's limits and ignore them (e.g. rootless on cgroup v1): never run unbounded silently. */
export class LimitsNotEnforced extends Data.TaggedError("LimitsNotEnforced")<{
  readonly engine: string
  readonly limits: ReadonlyArray<string>
}> {
  override get message() {
    return `${this.engine} cannot enforce the worker's ${this.limits.join(", ")} limit${this.limits.length > 1 ? "s" : ""}; refusing to spawn a worker without them`
  }
}

/** HAL9000_BACKEND=swarm and DOCKER_HOST is not a manager of an active swarm (or a command has no swarm form yet). */
export class SwarmUnavailable extends Data.TaggedError("SwarmUnavailable")<{ readonly address: string; readonly detail: string; readonly fix: string }> {
  override get message() {
    return `HAL9000_BACKEND=swarm: ${this.detail} (DOCKER_HOST=${this.address})`
  }
}

/** A node's own engine (for attach, resize, volumes) is not labelled or does not answer. */
export class SwarmNodeUnreachable extends Data.TaggedError("SwarmNodeUnreachable")<{ readonly node: string; readonly detail: string }> {
  override get message() {
    return `Cannot reach the engine of swarm node ${this.node}: ${this.detail}`
  }
}

/**
 * A service or node update at a version another update got to first ("update out of sequence"): the compare-and-swap
 * of a claim lost. Callers read the object again (or try another one); reported only if it reaches the user.
 */
export class ServiceUpdateConflict extends Data.TaggedError("ServiceUpdateConflict")<{ readonly kind: "service" | "node"; readonly id: string; readonly version: number }> {
  override get message() {
    return `The swarm ${this.kind} ${this.id} changed since it was read (version ${this.version}): another update came first`
  }
}
