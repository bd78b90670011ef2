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

/** How long an ended stream waits for the engine to report the session's exit before calling it a detach. */
const EXIT_GRACE_MS = 10_000

/** The promise's value, or undefined after `ms`; the timer is cleared so that it never keeps claudy alive. */
const within = <A>(p: Promise<A>, ms: number): Promise<A | undefined> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<undefined>((r) => {
    timer = setTimeout(r, ms, undefined)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

export const attachSession = (
  address: EngineAddress,
  session: string,
  containerId: string,
  opts: {
    readonly tty: boolean
    readonly onAttached?: Deferred.Deferred<void>
    /** Done when the container runs, for one attached before its start: the engine refuses to resize it before. */
    readonly running?: Deferred.Deferred<void> | undefined
    /**
     * Runs on the attached stream before the terminal is connected (a swarm worker's stdin hand-off); `logs` replays
     * the container's output so far into the stream first, so it sees what the worker printed before the attach.
     */
    readonly prepare?: ((stream: NodeJS.ReadWriteStream) => Promise<void>) | undefined
    readonly logs?: boolean | undefined
    /**
     * Keep the attach's stdin open when claudy's ends (a swarm task: without StdinOnce, the engine would end the
     * attach's output with it, and the session's output and exit code would be lost; the session sees no EOF).
     */
    readonly keepStdinOpen?: boolean | undefined
    /** Encode claudy's stdin (and its end) for a worker that unframes it (a swarm session without a TTY). */
    readonly frameStdin?: ((chunk: Uint8Array | "end") => string) | undefined
  }
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
        detachKeys: "ctrl-p,ctrl-q",
        ...(opts.logs === true ? { logs: true } : {})
      })) as NodeJS.ReadWriteStream
      if (opts.prepare) {
        try {
          await opts.prepare(stream)
        } catch (e) {
          ;(stream as unknown as { destroy?: () => void }).destroy?.()
          throw e
        }
      }
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
      // One resize at a time, each sending the size of the moment it is sent: the last request carries the last size
      // (concurrent requests could land out of order). A failed resize leaves the previous size; the next one retries.
      let resizing = Promise.resolve()
      const sendSize = async () => {
        const { rows, columns } = process.stdout
        if (rows && columns) await container.resize({ h: rows, w: columns }).catch(() => undefined)
      }
      const resize = () => {
        resizing = resizing.then(sendSize)
      }
      let finished = false
      let unframed = () => {}
      try {
        if (opts.tty) {
          stream.pipe(process.stdout, { end: false })
          if (stdin.isTTY) stdin.setRawMode(true)
        } else {
          docker.modem.demuxStream(stream, process.stdout, process.stderr)
          // a `prepare` step leaves the stream paused, and a data listener does not resume an explicitly paused one
          stream.resume()
        }
        stdin.on("data", watchKeys)
        const frame = opts.frameStdin
        const onInput = (chunk: Uint8Array) => void stream.write(frame!(chunk))
        const onInputEnd = () => void stream.write(frame!("end"))
        if (frame) {
          stdin.on("data", onInput)
          stdin.once("end", onInputEnd)
        } else {
          stdin.pipe(stream, { end: opts.keepStdinOpen !== true })
        }
        unframed = () => {
          stdin.off("data", onInput)
          stdin.off("end", onInputEnd)
        }
        stdin.resume()
        if (opts.onAttached) Deferred.unsafeDone(opts.onAttached, Effect.void)
        // A container attached before its start is waited on and resized only once it runs: the engine refuses to
        // resize it before (seen under load: the session kept the default size), and a wait on a container not yet
        // started returns at once with exit code 0 (seen: an `exit 3` reported as 0).
        const running = opts.running ? Effect.runPromise(Deferred.await(opts.running)) : Promise.resolve()
        if (opts.tty && process.stdout.isTTY) {
          running.then(() => {
            if (finished) return
            resize()
            process.stdout.on("resize", resize)
          }, () => undefined)
        }
        const exited = running
          .then(() => container.wait({ abortSignal: waiting.signal }))
          .then((r: { StatusCode: number }) => r.StatusCode)
        exited.catch(() => undefined) // aborted when the user detaches, or the start failed
        const first = await Promise.race([exited.then((code) => ({ code })), streamEnded.then(() => "ended" as const)])
        if (first === "ended") {
          // The stream also ends when the session exits, before the engine reports the exit. Unless the user typed
          // the detach keys, the exit is awaited; only a stream that ended for another reason pays the whole grace.
          if (!detachKeys) {
            const soon = await within(exited.catch(() => undefined), EXIT_GRACE_MS)
            if (soon !== undefined) return { _tag: "exited", code: soon }
          }
          // Detached before the start was through (keys typed ahead): once it is, the session runs on.
          await running.catch(() => undefined)
          const state = await container.inspect()
          if (state.State.Running) return { _tag: "detached" }
          return { _tag: "exited", code: await exited }
        }
        // Let the last output drain before handing the terminal back.
        await within(streamEnded, 1000)
        return { _tag: "exited", code: first.code }
      } finally {
        // Leave no handle open: a pending wait or socket would keep claudy alive after a detach.
        finished = true
        waiting.abort()
        ;(stream as unknown as { destroy?: () => void }).destroy?.()
        process.stdout.off("resize", resize)
        stdin.off("data", watchKeys)
        unframed()
        stdin.unpipe(stream)
        if (stdin.isTTY) stdin.setRawMode(rawBefore)
        stdin.pause()
      }
    },
    catch: (e) => new AttachFailed({ session, detail: e instanceof Error ? e.message : String(e) })
  })
