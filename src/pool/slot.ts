/**
 * A worker's slot: a small host directory, HAL9000_HOME/pool/slots/<id>, bind-mounted read-only at /run/claudy.
 * It holds the claim FIFO the entrypoint blocks on (0 % CPU while it waits), the session script and the API key file.
 * Handing a session to a worker is a host file write, no engine round trip: this is what makes a warm claim fast.
 */
import { Effect } from "effect"
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync
} from "node:fs"
import { join } from "node:path"
import { hostFile, listDir } from "../state/hostFile.ts"
import { mkfifo } from "./mkfifo.ts"
import { pollUntil } from "./pollUntil.ts"
import { renderSessionScript } from "./sessionScript.ts"

export const SLOT_TARGET = "/run/claudy"
export const slotsDir = (home: string) => join(home, "pool", "slots")
export const slotDir = (home: string, id: string) => join(slotsDir(home), id)

/** Create the slot directory and its FIFO. */
export const createSlot = (home: string, id: string) =>
  hostFile(slotDir(home, id), "create worker slot", () => {
    const dir = slotDir(home, id)
    mkdirSync(slotsDir(home), { recursive: true, mode: 0o700 })
    mkdirSync(dir, { mode: 0o755 })
    // set again: mkdir's mode is masked by umask (0077 under the systemd unit), and the worker user must enter
    chmodSync(dir, 0o755)
    mkfifo(join(dir, "claim.fifo"), 0o644)
    return dir
  })

export interface SessionHandoff {
  readonly session: string
  readonly env: ReadonlyArray<string>
  readonly command: ReadonlyArray<string>
  readonly apiKey: string
  readonly user: { readonly uid: number; readonly gid: number }
}

/** Write what the worker will run (atomically) and the API key (readable by the worker user only). */
export const writeHandoff = (home: string, id: string, h: SessionHandoff) =>
  hostFile(slotDir(home, id), "write the session into", () => {
    const dir = slotDir(home, id)
    if (h.apiKey !== "") {
      const key = join(dir, "anthropic_api_key")
      writeFileSync(key, h.apiKey, { mode: 0o600 })
      if (typeof process.getuid === "function" && process.getuid() === 0) {
        chownSync(key, h.user.uid, h.user.gid)
        chmodSync(key, 0o400)
      } else {
        // Not root: the file cannot be given to the worker's uid. Its slot directory sits in HAL9000_HOME (0700),
        // which no other host user can enter; inside the container only this worker sees it.
        chmodSync(key, 0o444)
      }
    }
    const tmp = join(dir, ".session.sh.tmp")
    writeFileSync(tmp, renderSessionScript(h.session, h.env, h.command), { mode: 0o644 })
    chmodSync(tmp, 0o644) // umask-proof: the worker user reads it
    renameSync(tmp, join(dir, "session.sh"))
  })

const openForWrite = (fifo: string) => openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)

/**
 * Wait until the worker's entrypoint waits on its FIFO: opening it for writing succeeds only then. Closing without
 * a line makes the entrypoint wait again, so this is safe to repeat. A warm worker counts as ready only after this.
 */
export const waitReady = (home: string, id: string, waitMs: number) =>
  pollUntil(() => {
    try {
      closeSync(openForWrite(join(slotDir(home, id), "claim.fifo")))
      return true
    } catch {
      return false
    }
  }, waitMs, 2)

/**
 * Wake the worker: open the FIFO without blocking (fails with ENXIO while no reader waits) and write one line.
 * Retries every 2 ms until `waitMs`: a cold worker needs a moment after start to reach its `read`.
 */
export const signalSlot = (home: string, id: string, waitMs: number) =>
  pollUntil(() => {
    try {
      const fd = openForWrite(join(slotDir(home, id), "claim.fifo"))
      try {
        writeSync(fd, "go\n")
      } finally {
        closeSync(fd)
      }
      return true
    } catch {
      return false
    }
  }, waitMs, 2)

/** Every slot with its age; one removed while listing is left out. */
export const listSlots = (home: string) =>
  Effect.map(listDir(slotsDir(home), "list the worker slots in"), (ids) =>
    ids.flatMap((id) => {
      try {
        return [{ id, mtimeMs: statSync(slotDir(home, id)).mtimeMs }]
      } catch {
        return []
      }
    })
  )

export const removeSlot = (home: string, id: string) =>
  hostFile(slotDir(home, id), "remove worker slot", () => rmSync(slotDir(home, id), { recursive: true, force: true }))
