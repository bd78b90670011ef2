/**
 * Attach the user's terminal to a session (dockerode's hijacked attach): raw TTY with resize when the session has
 * one, demultiplexed stdout/stderr when it has not. Ctrl-C in raw mode is a byte for the session, not a signal for
 * claudy. Ends with the session's exit code, or `detached` when the user detaches (ctrl-p ctrl-q) and it runs on.
 */
import { Deferred, Effect } from "effect"
import { AttachFailed } from "../domain/errors.ts"
import type { EngineAddress } from "../docker/address.ts"
import { loadDockerode } from "../docker/dockerode.ts"
import { restoreNormalJit } from "../observe/jitPolicy.ts"

export type AttachResult = { readonly _tag: "exited"; readonly code: number } | { readonly _tag: "detached" }

export const attachSession = (
  address: EngineAddress,
  session: string,
  containerId: string,
  opts: { readonly tty: boolean; readonly start: boolean; readonly onAttached?: Deferred.Deferred<void> }
) =>
  Effect.tryPromise({
    try: async (): Promise<AttachResult> => {
      restoreNormalJit()
      const docker = await loadDockerode(address)
      const container = docker.getContainer(containerId)
      const stream = (await container.attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
        detachKeys: "ctrl-p,ctrl-q"
      })) as NodeJS.ReadWriteStream
      const streamEnded = new Promise<void>((resolve) => {
        stream.once("end", resolve)
        stream.once("close", resolve)
        stream.once("error", () => resolve())
      })
      const waiting = new AbortController()
      const stdin = process.stdin
      // Whether the user typed the detach keys (ctrl-p ctrl-q, possibly split across reads): then a stream that ends
      // is a detach at once, with no grace for an exit.
      let detachKeys = false
      let lastByte = -1
      const watchKeys = (chunk: Buffer) => {
        for (const b of chunk) {
          if (lastByte === 0x10 && b === 0x11) detachKeys = true
          lastByte = b
        }
      }
      const rawBefore = stdin.isTTY ? stdin.isRaw : false
      const resize = () => {
        if (process.stdout.rows && process.stdout.columns) {
          container.resize({ h: process.stdout.rows, w: process.stdout.columns }).catch(() => undefined)
        }
      }
      try {
        if (opts.tty) {
          stream.pipe(process.stdout, { end: false })
          if (stdin.isTTY) stdin.setRawMode(true)
        } else {
          docker.modem.demuxStream(stream, process.stdout, process.stderr)
        }
        stdin.on("data", watchKeys)
        stdin.pipe(stream)
        stdin.resume()
        if (opts.onAttached) Deferred.unsafeDone(opts.onAttached, Effect.void)
        if (opts.start) await container.start()
        if (opts.tty && process.stdout.isTTY) {
          resize()
          process.stdout.on("resize", resize)
        }
        const exited = container.wait({ abortSignal: waiting.signal }).then((r: { StatusCode: number }) => r.StatusCode)
        exited.catch(() => undefined) // aborted when the user detaches
        const first = await Promise.race([exited.then((code) => ({ code })), streamEnded.then(() => "ended" as const)])
        if (first === "ended") {
          // The stream also ends when the session exits, a moment before the engine reports the exit: unless the user
          // typed the detach keys, give the exit a grace period before calling it a detach (a race seen once in a
          // full test run: exit code 0).
          if (!detachKeys) {
            const soon = await Promise.race([
              exited.catch(() => undefined),
              new Promise<undefined>((r) => setTimeout(r, 500, undefined))
            ])
            if (soon !== undefined) return { _tag: "exited", code: soon }
          }
          const state = await container.inspect()
          if (state.State.Running) return { _tag: "detached" }
          return { _tag: "exited", code: await exited }
        }
        // Let the last output drain before handing the terminal back.
        await Promise.race([streamEnded, new Promise((r) => setTimeout(r, 1000))])
        return { _tag: "exited", code: first.code }
      } finally {
        // Leave no handle open: a pending wait or socket would keep claudy alive after a detach.
        waiting.abort()
        ;(stream as unknown as { destroy?: () => void }).destroy?.()
        process.stdout.off("resize", resize)
        stdin.off("data", watchKeys)
        stdin.unpipe(stream)
        if (stdin.isTTY) stdin.setRawMode(rawBefore)
        stdin.pause()
      }
    },
    catch: (e) => new AttachFailed({ session, detail: e instanceof Error ? e.message : String(e) })
  })
