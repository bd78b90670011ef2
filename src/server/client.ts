/**
 * The thin client: the binary's entry sends a served command (protocol.ts: daemon status, detached spawns, sessions
 * list|inspect, pool status) to the control server of its HAL9000_HOME before Effect is loaded, prints the answer and
 * exits with its code. It resolves to false — run the command in this process, as always — when there is nothing to
 * ask: CLAUDY_NO_SERVER=1, not a served command, no socket or a stale one, another build, or any failure before the
 * server accepted. After it accepted, the command is never run again here: a broken connection is reported.
 */
import { writeSync } from "node:fs"
import { createConnection } from "node:net"
import { homedir } from "node:os"
import { BUILD_ID } from "../version.ts"
import { type Answer, controlSocketPath, isServed, MAX_REQUEST_BYTES, PROTOCOL_VERSION, requestEnv } from "./protocol.ts"

/** fd writes, not process.stdout: its first use builds Node's streams (≈ 7 ms in the binary, measured). */
const writeAll = (fd: number, text: string) => {
  let buf = Buffer.from(text)
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return // a closed pipe: nobody reads any more
    }
  }
}

const brokenAfterAccept = (argv: ReadonlyArray<string>) =>
  `Error: the claudy server accepted \`claudy ${argv.slice(2).join(" ")}\` and the connection broke before it answered; ` +
  "it may have been done, and is not run again here\n" +
  "Fix: check what happened with: claudy sessions list   (and the server: claudy daemon status, or its log)\n"

const noServer = (env: NodeJS.ProcessEnv) => ["1", "true", "yes"].includes((env.CLAUDY_NO_SERVER ?? "").toLowerCase())

/** True when the server answered (the process is exiting with its code); false: run the command in-process. */
export const answeredByServer = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): Promise<boolean> => {
  if (noServer(env) || !isServed(argv)) return Promise.resolve(false)
  const path = controlSocketPath(env, homedir())
  if (path === undefined) return Promise.resolve(false)
  const line = `${JSON.stringify({ v: PROTOCOL_VERSION, build: BUILD_ID, argv, env: requestEnv(env), cwd: process.cwd() })}\n`
  if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) return Promise.resolve(false)
  return new Promise((resolve) => {
    let accepted = false
    let settled = false
    let pending = ""
    const socket = createConnection(path)
    const settle = (answered: boolean) => {
      if (settled) return
      settled = true
      socket.destroy()
      resolve(answered)
    }
    const onAnswer = (a: Answer) => {
      if (a.t === "accepted") {
        accepted = true
        return
      }
      if (a.t === "result") {
        writeAll(1, a.stdout)
        writeAll(2, a.stderr)
        settled = true
        process.exit(a.code)
      }
      settle(false) // declined, or an error about our request: nothing was done, so run it here
    }
    socket.setEncoding("utf8")
    socket.on("connect", () => socket.write(line))
    socket.on("data", (chunk: string) => {
      pending += chunk
      for (let nl = pending.indexOf("\n"); nl >= 0 && !settled; nl = pending.indexOf("\n")) {
        const text = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        let answer: Answer
        try {
          answer = JSON.parse(text) as Answer
        } catch {
          answer = { t: "error", message: "unreadable answer" }
        }
        if (accepted && answer.t !== "result") continue
        onAnswer(answer)
      }
    })
    const ended = () => {
      if (settled) return
      if (!accepted) return settle(false)
      settled = true
      writeAll(2, brokenAfterAccept(argv))
      process.exit(1)
    }
    socket.on("error", ended)
    socket.on("close", ended)
  })
}
