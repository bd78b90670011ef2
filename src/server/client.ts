/**
 * The thin client: the binary's entry sends a served command (protocol.ts: daemon status, detached spawns, sessions
 * list|inspect, pool status) to the control server of its HAL9000_HOME before Effect is loaded, prints the answer and
 * exits with its code. It resolves to false — run the command in this process, as always — when there is nothing to
 * ask: CLAUDY_NO_SERVER=1, not a served command, no socket or a stale one, another build, or any failure before the
 * server accepted. After it accepted, the command is never run again here: a broken connection is reported.
 * Bun only: the compiled binary's entry (main.ts) uses it; the Node/Deno entry always runs commands in-process.
 * Every built-in module it would load costs each served command its start (measured in the binary: node:fs ≈ 2 ms,
 * node:os ≈ 1 ms, node:tty ≈ 6 ms), so it writes with Bun.write, takes HOME from the environment as os.homedir does,
 * and looks at its terminals only for an answer that has colour.
 */
import { colourWanted, hasColour, stripColourText } from "../cli/colour.ts"
import { BUILD_ID } from "../version.ts"
import { type Answer, controlSocketPath, isServed, MAX_REQUEST_BYTES, PROTOCOL_VERSION, requestEnv } from "./protocol.ts"

/** Bun.write, not process.stdout: its first use builds Node's streams (≈ 7 ms in the binary, measured). */
const writeAll = (fd: 1 | 2, text: string): Promise<unknown> =>
  text === "" ? Promise.resolve() : Bun.write(fd === 1 ? Bun.stdout : Bun.stderr, text).catch(() => undefined) // a closed pipe: nobody reads

/** The user's home as os.homedir() finds it: HOME when set, else the password database. */
const userHome = async (env: NodeJS.ProcessEnv) => env.HOME ?? (await import("node:os")).homedir()

const brokenAfterAccept = (argv: ReadonlyArray<string>) =>
  `Error: the claudy server accepted \`claudy ${argv.slice(2).join(" ")}\` and the connection broke before it answered; ` +
  "it may have been done, and is not run again here\n" +
  "Fix: check what happened with: claudy sessions list   (and the server: claudy daemon status, or its log)\n"

/**
 * Whether fd is a terminal, without node:tty: loading that module alone costs the binary ≈ 6 ms of its ≈ 16 ms start
 * (measured), more than the rest of a served request. A terminal is a pts or tty device; /proc tells which file an fd
 * is. Where /proc cannot tell, node:tty decides after all.
 */
const isTerminal = async (fd: number): Promise<boolean> => {
  try {
    const { readlinkSync } = await import("node:fs")
    return /^\/dev\/(pts\/[0-9]+|tty[A-Za-z0-9]*|console)$/.test(readlinkSync(`/proc/self/fd/${fd}`))
  } catch {
    return (await import("node:tty")).isatty(fd)
  }
}

/** The answer's text for fd: its colour taken out unless fd is a terminal that may show it (as in-process). */
const shown = async (fd: 1 | 2, text: string, env: NodeJS.ProcessEnv) =>
  hasColour(text) && !colourWanted(env, await isTerminal(fd)) ? stripColourText(text) : text

/** Print a served command's result and exit with its code: stdout first, then stderr, as in-process. */
const printResult = async (a: Extract<Answer, { t: "result" }>, env: NodeJS.ProcessEnv): Promise<never> => {
  await writeAll(1, await shown(1, a.stdout, env))
  await writeAll(2, await shown(2, a.stderr, env))
  process.exit(a.code)
}

const noServer = (env: NodeJS.ProcessEnv) => ["1", "true", "yes"].includes((env.CLAUDY_NO_SERVER ?? "").toLowerCase())

/** True when the server answered (the process is exiting with its code); false: run the command in-process. */
export const answeredByServer = async (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): Promise<boolean> => {
  if (noServer(env) || !isServed(argv)) return false
  const path = controlSocketPath(env, await userHome(env))
  if (path === undefined) return false
  const line = `${JSON.stringify({ v: PROTOCOL_VERSION, build: BUILD_ID, argv, env: requestEnv(env), cwd: process.cwd() })}\n`
  if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) return false
  return new Promise((resolve) => {
    let accepted = false
    let settled = false
    let pending = ""
    let close = () => {}
    const settle = (answered: boolean) => {
      if (settled) return
      settled = true
      close()
      resolve(answered)
    }
    const onLine = (text: string) => {
      let a: Answer
      try {
        a = JSON.parse(text) as Answer
      } catch {
        a = { t: "error", message: "unreadable answer" }
      }
      if (a.t === "accepted") accepted = true
      else if (a.t === "result") {
        settled = true
        close()
        void printResult(a, env)
      } else if (!accepted) settle(false) // declined, or an error about our request: nothing was done, so run it here
    }
    const ended = () => {
      if (settled) return
      if (!accepted) return settle(false)
      settled = true
      void writeAll(2, brokenAfterAccept(argv)).then(() => process.exit(1))
    }
    const decoder = new TextDecoder()
    // Bun's own socket: node:net's module and stream machinery cost the client ≈ 1 ms more (measured).
    Bun.connect({
      unix: path,
      socket: {
        open: (s) => {
          close = () => s.end()
          s.write(line)
        },
        data: (_s, chunk) => {
          pending += decoder.decode(chunk, { stream: true })
          for (let nl = pending.indexOf("\n"); nl >= 0 && !settled; nl = pending.indexOf("\n")) {
            const text = pending.slice(0, nl)
            pending = pending.slice(nl + 1)
            onLine(text)
          }
        },
        close: ended,
        error: ended,
        connectError: ended
      }
    }).catch(ended)
  })
}
