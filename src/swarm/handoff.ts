/**
 * Handing a session to a worker on a swarm: on its stdin, through the engine of the node that runs it (attach goes
 * to a node, not through a manager). The attach replays the worker's output so far, so the ready line is seen
 * whether the worker printed it just now (cold) or long ago (warm); only then is the session written (echo is off
 * by then: nothing of it, the key included, reaches the log).
 */
import { Effect } from "effect"
import { AttachFailed } from "../domain/errors.ts"
import type { EngineAddress } from "../docker/address.ts"
import { loadDockerode } from "../docker/dockerode.ts"
import type { SessionHandoff } from "../pool/slot.ts"
import { type Handoff, HANDOFF_READY, handoffPayload } from "./handoffProtocol.ts"

/** How long a worker may take from its start to its ready line (the MCP registration runs before it). */
export const READY_WAIT_MS = 30_000

/** Resolves once the worker's ready line has come through `stream`, which is left paused; rejects on end or time. */
export const awaitReady = (stream: NodeJS.ReadableStream, ms: number) =>
  new Promise<void>((resolve, reject) => {
    // Only the tail is kept: the line may be split across chunks, and a replay may be long.
    let tail = ""
    const done = (error?: Error) => {
      clearTimeout(timer)
      stream.off("data", onData)
      stream.off("end", onEnd)
      stream.off("error", onError)
      stream.pause()
      if (error) reject(error)
      else resolve()
    }
    // Whatever followed the ready line in the same chunk is dropped: the entrypoint prints nothing more until the
    // session is written.
    const onData = (chunk: Buffer | string) => {
      tail = (tail + (typeof chunk === "string" ? chunk : chunk.toString("latin1"))).slice(-(HANDOFF_READY.length + 4096))
      if (tail.includes(HANDOFF_READY)) done()
    }
    const onEnd = () => done(new Error("the worker ended before it was ready for its session (see: claudy sessions logs)"))
    const onError = (e: Error) => done(e)
    const timer = setTimeout(
      () => done(new Error(`the worker was not ready for its session within ${Math.round(ms / 1000)} s (see: claudy sessions logs)`)),
      ms
    )
    stream.on("data", onData)
    stream.once("end", onEnd)
    stream.once("error", onError)
  })

const write = (stream: NodeJS.WritableStream, text: string) =>
  new Promise<void>((resolve, reject) => {
    stream.write(text, (e) => (e ? reject(e) : resolve()))
  })

/** For attachSession's `prepare` (with `logs: true`): wait for the ready line, then write the session. */
export const deliverOn =
  (h: SessionHandoff & Handoff, ms = READY_WAIT_MS) =>
  async (stream: NodeJS.ReadWriteStream) => {
    await awaitReady(stream, ms)
    await write(stream, handoffPayload(h))
  }

/**
 * Hand the session over and leave the worker running it (a detached spawn, a warm claim): attach, wait for the
 * ready line, write, detach. The worker's stdin stays open (Swarm has no StdinOnce): a later attach reaches it.
 */
export const handOff = (address: EngineAddress, containerId: string, h: SessionHandoff, ms = READY_WAIT_MS) =>
  Effect.tryPromise({
    try: async () => {
      const docker = await loadDockerode(address)
      const stream = (await docker.getContainer(containerId).attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
        logs: true
      })) as NodeJS.ReadWriteStream
      try {
        await deliverOn(h, ms)(stream)
      } finally {
        ;(stream as unknown as { destroy?: () => void }).destroy?.()
      }
    },
    catch: (e) => new AttachFailed({ session: h.session, detail: e instanceof Error ? e.message : String(e) })
  })
