/**
 * What needs the engine on this very host. A worker gets host directories bind-mounted (its project, its slot in
 * HAL9000_HOME) and takes its session through a FIFO in that slot; backup and restore bind a host directory into a
 * helper. Bind sources are paths on the engine's host, so with a tcp:// engine (possibly another machine) they would
 * name directories that are not there, or other ones. Such commands are refused before anything is created; the
 * daemon, read and session commands work over tcp:// as well.
 */
import { Effect } from "effect"
import { UsageError } from "../domain/errors.ts"
import type { EngineAddress } from "./address.ts"

export const requireLocalEngine = (address: EngineAddress, what: string): Effect.Effect<void, UsageError> =>
  address._tag === "unix"
    ? Effect.void
    : Effect.fail(
        new UsageError({
          detail:
            `${what} needs the Docker engine on this host, and DOCKER_HOST=${address.display} is reached over the network: ` +
            "the host directories it mounts (the project, HAL9000_HOME's worker slot with its FIFO, a backup directory) would not be there",
          fix:
            "run claudy on the engine's host with its socket (DOCKER_HOST=unix:///var/run/docker.sock); daemon, sessions, pool status and config work over tcp:// too"
        })
      )
