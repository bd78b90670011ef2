/**
 * `claudy sessions shell NAME`: a login shell in a running worker, as the worker's own user, through an exec
 * (dockerode's hijacked stream): a TTY with resize when claudy has one, plain pipes otherwise. Ends with the shell's
 * exit code; the session itself runs on.
 */
import { Effect } from "effect"
import { AttachFailed } from "../domain/errors.ts"
import type { EngineAddress } from "../docker/address.ts"
import { loadDockerode } from "../docker/dockerode.ts"
import { restoreNormalJit } from "../observe/jitPolicy.ts"

/** bash when the image has it (the worker image does), else sh. */
const SHELL = ["/bin/sh", "-c", 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi']

export const shellInSession = (address: EngineAddress, session: string, containerId: string, user: string) =>
  Effect.tryPromise({
    try: async (): Promise<number> => {
      restoreNormalJit()
      const docker = await loadDockerode(address)
      const stdin = process.stdin
      const tty = stdin.isTTY === true && process.stdout.isTTY === true
      const exec = await docker.getContainer(containerId).exec({
        Cmd: SHELL,
        User: user,
        WorkingDir: "/workspace",
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: tty,
        ...(tty ? { Env: [`TERM=${process.env.TERM ?? "xterm"}`] } : {})
      })
      const stream = (await exec.start({ hijack: true, stdin: true, Tty: tty })) as NodeJS.ReadWriteStream
      const ended = new Promise<void>((resolve) => {
        stream.once("end", resolve)
        stream.once("close", resolve)
        stream.once("error", () => resolve())
      })
      const rawBefore = stdin.isTTY ? stdin.isRaw : false
      // One resize at a time, each with the size of its moment (see attach.ts).
      let resizing = Promise.resolve()
      const resize = () => {
        resizing = resizing.then(async () => {
          const { rows, columns } = process.stdout
          if (rows && columns) await exec.resize({ h: rows, w: columns }).catch(() => undefined)
        })
      }
      try {
        if (tty) {
          stream.pipe(process.stdout, { end: false })
          stdin.setRawMode(true)
          resize()
          process.stdout.on("resize", resize)
        } else {
          docker.modem.demuxStream(stream, process.stdout, process.stderr)
        }
        stdin.pipe(stream)
        stdin.resume()
        await ended
        const info = (await exec.inspect()) as { ExitCode: number | null }
        return info.ExitCode ?? 0
      } finally {
        ;(stream as unknown as { destroy?: () => void }).destroy?.()
        process.stdout.off("resize", resize)
        stdin.unpipe(stream)
        if (stdin.isTTY) stdin.setRawMode(rawBefore)
        stdin.pause()
      }
    },
    catch: (e) => new AttachFailed({ session, detail: e instanceof Error ? e.message : String(e) })
  })
