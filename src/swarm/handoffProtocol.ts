/**
 * How a session reaches a worker on a swarm (pure): no host file and nothing in the service spec, but the worker's
 * stdin, written through its node's engine (an attach). The worker entrypoint (images/recipes.ts) turns echo off,
 * prints READY, and reads base64 lines up to a line "."; they decode to the same sh fragment a local slot's
 * session.sh holds, plus the API key. Base64 in short lines: a TTY's line discipline passes them unchanged (no
 * control characters, far below its 4 KiB line limit), and a pipe does too.
 */
import { renderSessionScript, shQuote } from "../pool/sessionScript.ts"
import type { SessionHandoff } from "../pool/slot.ts"

/** Printed by the entrypoint once echo is off and it reads the session: only then may claudy write it. */
export const HANDOFF_READY = "claudy-worker: ready for the session"
/** The worker environment variable that makes the entrypoint read its session from stdin. */
export const HANDOFF_ENV = "CLAUDY_HANDOFF=stdin"
/** The line that ends the session on stdin. */
export const HANDOFF_END = "."

const LINE = 76

export type Handoff = Pick<SessionHandoff, "session" | "env" | "command" | "apiKey"> & {
  /**
   * A session without a TTY: what follows on stdin is framed (stdinFrame), so that the end of claudy's input can
   * reach the session as an end of file (Swarm has no StdinOnce; the engine never closes a task's stdin).
   */
  readonly framedStdin?: boolean
}

/** The sh fragment the worker evaluates: the session's environment and command, then the key (never a file). */
export const handoffScript = (h: Handoff) =>
  renderSessionScript(h.session, h.env, h.command) +
  (h.apiKey === "" ? "" : `export ANTHROPIC_API_KEY=${shQuote(h.apiKey)}\n`) +
  (h.framedStdin === true ? "claudy_stdin=framed\n" : "")

/**
 * One piece of a session's framed stdin (pure): `d <base64>` per chunk, `e` at the end of claudy's input; the
 * entrypoint's relay (worker-unframe.py) writes the data to the session and closes its stdin at `e`.
 */
export const stdinFrame = (chunk: Uint8Array | "end") => (chunk === "end" ? "e\n" : `d ${Buffer.from(chunk).toString("base64")}\n`)

/** What claudy writes to the worker's stdin (pure). */
export const handoffPayload = (h: Handoff) => {
  const b64 = Buffer.from(handoffScript(h), "utf8").toString("base64")
  const lines: Array<string> = []
  for (let i = 0; i < b64.length; i += LINE) lines.push(b64.slice(i, i + LINE))
  return `${[...lines, HANDOFF_END].join("\n")}\n`
}
