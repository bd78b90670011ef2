/**
 * The parent and worker images, embedded in the binary so `claudy images build` needs nothing but the engine.
 * Kept as strings (not `with { type: "text" }` imports) so the same source runs under Deno unchanged.
 * Both take the base image as a build argument: the default is public; offline machines pass an imported one.
 * `extra-ca/` holds optional CA certificates (corporate or TLS-intercepting proxies) for apt/npm inside the build.
 */
import { HANDOFF_END, HANDOFF_READY } from "../swarm/handoffProtocol.ts"

const common = (packages: string) => `ARG BASE_IMAGE=debian:trixie-slim
FROM \${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ${packages} \\
 && rm -rf /var/lib/apt/lists/*
COPY extra-ca/ /usr/local/share/ca-certificates/claudy-extra/
RUN update-ca-certificates >/dev/null 2>&1
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
`

export const CHROMADB_VERSION = "3.5.0"
export const CLAUDE_CODE_VERSION = "2.1.330"

const parentDockerfile = `${common("ca-certificates nodejs npm tini curl")}ARG CHROMADB_VERSION=${CHROMADB_VERSION}
RUN npm install -g --no-audit --no-fund chromadb@\${CHROMADB_VERSION} && npm cache clean --force
COPY parent-entrypoint.sh /usr/local/bin/claudy-parent-entrypoint
RUN chmod 0755 /usr/local/bin/claudy-parent-entrypoint && mkdir -p /data/chromadb /data/membank /data/plugins
ENV CHROMADB_HOST=0.0.0.0 CHROMADB_PORT=8000 CHROMADB_DATA_DIR=/data/chromadb
# chroma ignores SIGTERM (docker stop would wait its full timeout, then SIGKILL); it exits cleanly on SIGINT.
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/claudy-parent-entrypoint"]
`

const parentEntrypoint = `#!/bin/sh
# Runs the real ChromaDB server (npm chromadb's Rust server) with the settings claudy passed in.
set -eu
mkdir -p "\${CHROMADB_DATA_DIR}"
# The memory bank is shared by every worker, which run as their project owners' uids: anyone may add, only the owner
# of a file may remove it (sticky). Set at every start: a volume made by an earlier parent may still be root's 0755.
chmod 1777 /data/membank 2>/dev/null || true
echo "claudy-parent: chroma run --host \${CHROMADB_HOST} --port \${CHROMADB_PORT} --path \${CHROMADB_DATA_DIR}"
exec chroma run --host "\${CHROMADB_HOST}" --port "\${CHROMADB_PORT}" --path "\${CHROMADB_DATA_DIR}"
`

/** The memory bank and sequential-thinking MCP servers, from npm at pinned versions (claudy serves ChromaDB itself). */
export const MEMORY_BANK_MCP_VERSION = "0.2.2"
export const SEQUENTIAL_THINKING_MCP_VERSION = "2026.8.31"

// python3/venv/pip, ripgrep, tmux and less: what users expect of a worker's shell (the original's image has them).
// LANG=C.UTF-8 needs no locales package (glibc has it built in). CLAUDE_CONFIG_DIR is Claude Code's config dir
// (claudy's MCP registrations go into its .claude.json); CLAUDE_HOME names the same directory for scripts.
const workerDockerfile = `${common("ca-certificates nodejs npm git curl tini python3 python3-venv python3-pip ripgrep tmux less")}ARG CLAUDE_CODE_VERSION=${CLAUDE_CODE_VERSION}
RUN npm install -g --no-audit --no-fund @anthropic-ai/claude-code@\${CLAUDE_CODE_VERSION} && npm cache clean --force
ARG MEMORY_BANK_MCP_VERSION=${MEMORY_BANK_MCP_VERSION}
ARG SEQUENTIAL_THINKING_MCP_VERSION=${SEQUENTIAL_THINKING_MCP_VERSION}
RUN npm install -g --no-audit --no-fund @allpepper/memory-bank-mcp@\${MEMORY_BANK_MCP_VERSION} \\
    @modelcontextprotocol/server-sequential-thinking@\${SEQUENTIAL_THINKING_MCP_VERSION} && npm cache clean --force
RUN useradd --create-home --uid 1000 --shell /bin/bash claude \\
 && mkdir -p /workspace /home/claude/.claude /data/membank /data/plugins \\
 && chown claude:claude /workspace /home/claude/.claude && chmod 1777 /data/membank
COPY worker-entrypoint.sh /usr/local/bin/claudy-worker-entrypoint
COPY worker-forward.py /usr/local/lib/claudy/forward.py
COPY worker-unframe.py /usr/local/lib/claudy/unframe.py
RUN chmod 0755 /usr/local/bin/claudy-worker-entrypoint && chmod 0644 /usr/local/lib/claudy/forward.py /usr/local/lib/claudy/unframe.py
# This entrypoint runs a session written into its slot before it started without waiting on the claim FIFO
# (src/spawn/Spawner.ts: a cold spawn then ends when the engine has started the worker, as docker run -d does).
LABEL io.hal9000.handoff="before-start"
USER claude
ENV HOME=/home/claude LANG=C.UTF-8 WORKSPACE=/workspace MEMORY_BANK_ROOT=/data/membank \\
    CLAUDE_CONFIG_DIR=/home/claude/.claude CLAUDE_HOME=/home/claude/.claude
WORKDIR /workspace
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/claudy-worker-entrypoint"]
CMD ["claude"]
`

const workerEntrypoint = `#!/bin/sh
# Every worker starts here, cold or warm. It waits on the claim FIFO of its slot (/run/claudy, bind-mounted
# read-only from the host; no CPU while it waits), then sources the session claudy wrote there (environment and
# command) and runs it in place, so the session's output is the container's log and attach reaches its TTY.
# The API key arrives as a file readable only by this user, never as an env var visible in docker inspect.
# On a swarm (CLAUDY_HANDOFF=stdin) there is no host file: the session arrives on stdin instead (see below).
set -eu
# On a swarm, ChromaDB is a service on the instance's network: the forwarder makes it localhost:PORT too, for the
# tools that expect it there (CLAUDY_FORWARD=PORT:HOST:PORT). Quiet: its output would land in the session's.
if [ -n "\${CLAUDY_FORWARD:-}" ]; then
  python3 /usr/local/lib/claudy/forward.py "$CLAUDY_FORWARD" >/dev/null 2>&1 &
fi
# Claude Code's MCP servers (ChromaDB through the claudy binary mounted from the host, the memory bank, sequential
# thinking), merged into its user config under a lock, keeping everything else the user has there. A worker whose
# uid is not the image's has an empty tmpfs home: make the config dir first. Never fatal: the session still runs.
if [ -n "\${CLAUDE_CONFIG_DIR:-}" ] && [ -x /usr/local/bin/claudy ]; then
  mkdir -p "$CLAUDE_CONFIG_DIR" 2>/dev/null || true
  flock "$CLAUDE_CONFIG_DIR/.claudy-mcp.lock" /usr/local/bin/claudy mcp register \\
    || echo "claudy-worker: the MCP servers could not be registered (see above); Claude Code runs without them" >&2
fi
slot="\${CLAUDY_SLOT:-}"
if [ -n "$slot" ] && [ -p "$slot/claim.fifo" ]; then
  # A cold worker's session was written before it started: run it at once. A warm worker waits for its claim; a
  # writer that closes without a line (claudy checking that this worker waits) is not a claim: wait again.
  if [ ! -f "$slot/session.sh" ]; then
    until read -r _claimed < "$slot/claim.fifo"; do :; done
  fi
  . "$slot/session.sh"
elif [ "\${CLAUDY_HANDOFF:-}" = stdin ]; then
  # claudy writes the session to stdin through the node's engine: base64 lines ending with a line ".", decoding to
  # what session.sh holds plus the API key. Echo is off while it is read (nothing of it reaches the log), and the
  # ready line says so: claudy writes only after it.
  tty_state=""
  if [ -t 0 ]; then tty_state=$(stty -g); stty -echo; fi
  echo "${HANDOFF_READY}"
  payload="" line=""
  while IFS= read -r line; do
    [ "$line" = "${HANDOFF_END}" ] && break
    payload="$payload$line"
  done
  if [ "$line" != "${HANDOFF_END}" ]; then
    echo "claudy-worker: stdin ended before the session arrived" >&2
    exit 70
  fi
  if [ -n "$tty_state" ]; then stty "$tty_state"; fi
  claudy_stdin=""
  eval "$(printf '%s' "$payload" | base64 -d)"
  unset payload line tty_state
  if [ "$claudy_stdin" = framed ]; then
    # Without a TTY, what claudy sends after the session is framed: a relay turns it back into the session's stdin
    # and closes that at the end of claudy's input (the engine never closes a swarm task's stdin).
    stdin_fifo=$(mktemp -u /tmp/claudy-stdin.XXXXXX)
    mkfifo -m 0600 "$stdin_fifo"
    exec 3<&0
    python3 /usr/local/lib/claudy/unframe.py <&3 >"$stdin_fifo" 3<&- &
    exec 3<&- <"$stdin_fifo"
    rm -f "$stdin_fifo"
  fi
fi
if [ -n "\${ANTHROPIC_API_KEY_FILE:-}" ] && [ -r "\${ANTHROPIC_API_KEY_FILE}" ]; then
  ANTHROPIC_API_KEY=$(cat "\${ANTHROPIC_API_KEY_FILE}")
  export ANTHROPIC_API_KEY
fi
exec "$@"
`

/**
 * The worker's localhost forwarder (CLAUDY_FORWARD=PORT:HOST:PORT): 127.0.0.1 and ::1 (when the worker has it) to
 * HOST:PORT, each connection relayed both ways with half-closes kept. Python's asyncio: the image has python3, and
 * it idles in a few MB.
 */
const workerForward = `import asyncio, sys

listen, host, port = sys.argv[1].split(":")


async def relay(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, asyncio.CancelledError):
        pass


async def serve(client_reader, client_writer):
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(relay(client_reader, upstream_writer), relay(upstream_reader, client_writer))
    upstream_writer.close()
    client_writer.close()


async def main():
    servers = [await asyncio.start_server(serve, "127.0.0.1", int(listen))]
    try:
        servers.append(await asyncio.start_server(serve, "::1", int(listen)))
    except OSError:
        pass
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main())
`

/**
 * A swarm session without a TTY: claudy's framed stdin (src/swarm/handoffProtocol.ts stdinFrame) back to plain bytes
 * for the session, and its end of file at the frame that says so.
 */
const workerUnframe = `import base64, sys

out = sys.stdout.buffer
try:
    for line in sys.stdin.buffer:
        if line.startswith(b"d "):
            out.write(base64.b64decode(line[2:].strip()))
            out.flush()
        elif line.strip() == b"e":
            break
except OSError:
    pass
finally:
    try:
        out.close()
    except OSError:
        pass
`

export type ImageKind = "parent" | "worker"

export interface Recipe {
  readonly kind: ImageKind
  /** file name -> content, written into the build context */
  readonly files: Readonly<Record<string, string>>
  readonly dockerfile: string
}

export const RECIPES: Record<ImageKind, Recipe> = {
  parent: {
    kind: "parent",
    dockerfile: "Dockerfile.parent",
    files: { "Dockerfile.parent": parentDockerfile, "parent-entrypoint.sh": parentEntrypoint }
  },
  worker: {
    kind: "worker",
    dockerfile: "Dockerfile.worker",
    files: { "Dockerfile.worker": workerDockerfile, "worker-entrypoint.sh": workerEntrypoint, "worker-forward.py": workerForward, "worker-unframe.py": workerUnframe }
  }
}
