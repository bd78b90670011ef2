/** Where the engine is: DOCKER_HOST in Docker's own syntax, parsed once (pure). */
import { Either } from "effect"

export type EngineAddress =
  | { readonly _tag: "unix"; readonly socketPath: string; readonly display: string }
  | { readonly _tag: "tcp"; readonly baseUrl: string; readonly display: string }

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"

export const parseDockerHost = (raw: string): Either.Either<EngineAddress, string> => {
  if (raw.startsWith("unix://")) {
    const socketPath = raw.slice("unix://".length)
    return socketPath.startsWith("/")
      ? Either.right({ _tag: "unix", socketPath, display: raw })
      : Either.left("unix:// needs an absolute socket path, like unix:///var/run/docker.sock")
  }
  if (raw.startsWith("tcp://") || raw.startsWith("http://")) {
    const rest = raw.replace(/^(tcp|http):\/\//, "")
    return /^[^/\s]+:[0-9]+\/?$/.test(rest)
      ? Either.right({ _tag: "tcp", baseUrl: `http://${rest.replace(/\/$/, "")}`, display: raw })
      : Either.left("tcp:// needs host:port, like tcp://127.0.0.1:2375")
  }
  if (raw.startsWith("ssh://")) {
    return Either.left(
      "ssh:// engines are not supported; forward the remote socket instead: ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock HOST, then DOCKER_HOST=unix:///tmp/docker.sock"
    )
  }
  return Either.left("unix:///path/to/docker.sock or tcp://host:port")
}

/** Docker's own TLS settings. The Engine API client speaks plain HTTP, so for a tcp:// engine they are refused by name. */
export const TLS_VARIABLES = ["DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH"] as const

/**
 * Which TLS variables ask for TLS to a tcp:// DOCKER_HOST, and why that is refused (pure); none for a unix socket,
 * where the docker CLI ignores them too. A non-empty value counts as set, as in the docker CLI.
 */
export const tlsRefusal = (dockerHost: string, env: Readonly<Record<string, string | undefined>>) => {
  const set = TLS_VARIABLES.filter((name) => (env[name] ?? "") !== "")
  if (set.length === 0 || !/^(tcp|http):\/\//.test(dockerHost)) return undefined
  return {
    variables: [...set, "DOCKER_HOST"],
    detail:
      `${set.join(" and ")} ${set.length > 1 ? "are" : "is"} set for DOCKER_HOST=${dockerHost}, and claudy talks to tcp:// engines ` +
      "in plain HTTP: it cannot verify the engine or present a client certificate (TLS is not supported yet). Use the engine's " +
      "unix socket (on its host, or forwarded: ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock HOST, then " +
      `DOCKER_HOST=unix:///tmp/docker.sock), or unset ${set.join(" and ")} for an engine that listens without TLS`
  }
}
