/**
 * The one place that turns a failure into what the user reads: a message, the next command to run, an exit code.
 * Pure and exhaustive over ClaudyError, so adding an error without a message does not compile.
 */
import type { ClaudyError } from "../domain/errors.ts"
import { EXIT } from "./exitCodes.ts"

export interface Report {
  readonly tag: string
  readonly message: string
  readonly details: ReadonlyArray<string>
  readonly hint: string
  readonly exitCode: number
}

export const describeError = (e: ClaudyError): Report => {
  const r = (exitCode: number, hint: string, details: ReadonlyArray<string> = []): Report => ({
    tag: e._tag,
    message: e.message,
    details,
    hint,
    exitCode
  })
  switch (e._tag) {
    case "ConfigInvalid":
      return r(
        EXIT.usage,
        e.variable.startsWith("--")
          ? `correct ${e.variable} or leave it out to use the default`
          : e.source === "flag"
          ? `correct --set ${e.variable}=… or leave it out`
          : e.source === "kept"
          ? `give a valid value to \`claudy daemon start\` (${e.variable}=… claudy daemon start), or remove ${e.variable} from HAL9000_HOME/settings.json`
          : `correct ${e.variable} in the environment, or unset it to use its default (claudy config lists every setting)`
      )
    case "ConfigConflict":
      return r(EXIT.usage, `change ${e.variables.join(" or ")} (see: claudy config)`)
    case "UsageError":
      return r(EXIT.usage, e.fix)
    case "DockerUnavailable":
      return r(
        EXIT.noEngine,
        e.reason.startsWith("permission denied")
          ? "run as a user in the docker group (or root), or point DOCKER_HOST at an engine you may use"
          : "start Docker (Linux: sudo systemctl start docker, or scripts/ensure-docker as root) or set DOCKER_HOST"
      )
    case "DockerApiError":
      return r(EXIT.failure, "see the engine's message above; `claudy daemon status` shows the current state")
    case "DockerTimeout":
      return r(
        EXIT.timeout,
        "the engine is stuck or overloaded: check it with `docker info` (Linux: systemctl status docker), then run the command again; what claudy had started was undone"
      )
    case "DockerResponseInvalid":
      return r(EXIT.failure, "claudy speaks Engine API v1.41 or later: check `docker version` (and any proxy in front of the engine)")
    case "ImageNotFound":
      return r(
        EXIT.imageMissing,
        e.profile
          ? `build it: claudy images build --profile ${e.profile}   (claudy profiles list shows every profile and its image)`
          : `build it locally: claudy images build ${e.role}   (or pull ${e.image} where a registry is reachable)`
      )
    case "ImageBuildFailed":
      return r(
        EXIT.failure,
        "see the build output above; behind a TLS-intercepting proxy pass its CA with --ca-cert FILE"
      )
    case "ParentNotRunning":
      return r(EXIT.notRunning, "claudy daemon start", [`state: ${e.state}`])
    case "ParentUnhealthy":
      return r(EXIT.unhealthy, `claudy daemon restart   (logs: claudy daemon logs, or docker logs ${e.container})`)
    case "ParentConfigDiffers":
      return r(EXIT.conflict, "apply the new settings with: claudy daemon restart   (or claudy daemon start --recreate)", e.differences)
    case "ChromaStartTimeout":
      return r(
        EXIT.timeout,
        e.likelyCause?.startsWith("port")
          ? "free the port or use another one: CHROMADB_PORT=8080 claudy daemon restart"
          : e.likelyCause?.startsWith("CHROMADB_HOST")
          ? "CHROMADB_HOST=0.0.0.0 claudy daemon restart"
          : "check the log lines above; raise CHROMADB_START_TIMEOUT on slow hosts; then: claudy daemon restart",
        [...(e.likelyCause ? [`likely cause: ${e.likelyCause}`] : []), `last lines of ${e.container}'s log:`, ...e.logTail.map((l) => `  ${l}`)]
      )
    case "PortInUse":
      return r(
        EXIT.conflict,
        e.setting === "HAL9000_HTTP_ADDR"
          ? `stop ${e.holder}, or serve health elsewhere: HAL9000_HTTP_ADDR=127.0.0.1:9091 (or none) claudy daemon run`
          : `stop ${e.holder}, or use another port: CHROMADB_PORT=8080 claudy daemon restart`
      )
    case "PoolLoopSupervised":
      return r(
        EXIT.conflict,
        "stop or reconfigure the service that runs it (systemctl stop claudy, or ENABLE_POOL_MANAGER=false in its unit); warm workers can be removed now with: claudy pool cleanup"
      )
    case "ForeignObject":
      return r(
        EXIT.conflict,
        `rename or remove that ${e.kind} yourself, or give claudy other names with HAL9000_INSTANCE=<name>`
      )
    case "SessionNameTaken":
      return r(EXIT.usage, `choose another --name, or remove the old session first: claudy sessions rm ${e.name}`)
    case "SessionNotFound":
      return r(EXIT.usage, "claudy sessions list shows the sessions there are")
    case "AttachFailed":
      return r(EXIT.failure, "check the session with: claudy sessions inspect NAME")
    case "BackupInvalid":
      return r(EXIT.usage, "claudy backup list shows the backups there are; take a new one with: claudy backup")
    case "HelperFailed":
      return r(EXIT.failure, "see the output above; claudy doctor checks the engine, images and volumes")
    case "LimitsNotEnforced":
      return r(
        EXIT.usage,
        "run the engine rootful or on cgroup v2 with controller delegation (docs/TROUBLESHOOTING.md, Podman), or spawn with --no-limits to accept a worker without limits"
      )
    case "SwarmUnavailable":
      return r(EXIT.noEngine, e.fix)
    case "SwarmNodeUnreachable":
      return r(
        EXIT.noEngine,
        "label the node with its engine's address: docker node update --label-add io.hal9000.engine=unix:///path/to/docker.sock NODE (docs/SCALE-OUT.md)"
      )
    case "ServiceUpdateConflict":
      return r(EXIT.conflict, "run the command again: it reads the current state first")
    case "StateError":
      return r(EXIT.failure, e.fix ?? "check that HAL9000_HOME is on a writable disk with free space (claudy config shows it)")
  }
}

export const renderReport = (r: Report): string =>
  [`Error: ${r.message}`, ...r.details.map((d) => `  ${d}`), `Fix: ${r.hint}`].join("\n")
