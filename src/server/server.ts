/**
 * The control server: a unix socket in HAL9000_HOME/run (0600 in a 0700 directory, so only this user can connect:
 * Bun and Node give no peer credentials, the directory's mode is the check) on which the thin client (client.ts)
 * sends a served command. The command runs here exactly as it would in the client's process — the same program, with
 * the client's argv, environment and working directory (config/invocation.ts), its output captured — and the answer
 * carries stdout, stderr and the exit code. It follows the engine's events to reuse answers that have not changed
 * (engineEvents.ts). Started by `daemon run` and `claudy serve`.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import type { Terminal } from "@effect/platform/Terminal"
import { Console, Context, Effect, Runtime } from "effect"
import { chmodSync, lstatSync, mkdirSync, rmSync, statSync } from "node:fs"
import { createConnection, createServer, type Server, type Socket } from "node:net"
import { dirname } from "node:path"
import { asInvocation } from "../config/invocation.ts"
import { Settings } from "../config/Settings.ts"
import { Engine } from "../docker/Engine.ts"
import { StateError } from "../domain/errors.ts"
import type { HttpServe } from "../observe/HttpServe.ts"
import { withLogger } from "../observe/logger.ts"
import { ensureHome } from "../state/home.ts"
import { BUILD_ID } from "../version.ts"
import { withColourPolicy } from "../cli/colourPolicy.ts"
import { exitCodeOf, program } from "../cli/program.ts"
import { captureConsole } from "./captureConsole.ts"
import { warmState } from "./engineEvents.ts"
import { currentDependencies, type Dependencies, type WarmCache, WarmState } from "./WarmState.ts"
import { keepsAnswer, makeReplies } from "./replies.ts"
import { type Answer, controlSocketPath, declineReason, MAX_REQUEST_BYTES, parseRequest, type Request } from "./protocol.ts"

/** A client that connects and sends nothing is dropped after this long. */
const REQUEST_TIMEOUT_MS = 5_000

type Platform = FileSystem | Path | Terminal | HttpServe

/** Colour is kept as the client's environment allows; the client takes it out for a stream that is no terminal. */
const AS_TERMINALS = { out: true, err: true } as const

const line = (a: Answer) => `${JSON.stringify(a)}\n`

/**
 * One request, as the client's own process would run it; never fails (a defect becomes exit 1 with its report).
 * `deps`: collect what its answer rests on (replies.ts), for an answer the server may keep.
 */
const runRequest = (r: Request, platform: Context.Context<Platform>, warm: WarmCache, deps: Dependencies | undefined) =>
  Effect.gen(function* () {
    const captured = captureConsole(yield* Effect.console)
    const exit = yield* program(r.argv).pipe(
      (e) => withColourPolicy(e, r.env, AS_TERMINALS),
      (e) => withLogger(e, r.env),
      asInvocation({ env: r.env, cwd: r.cwd }),
      Console.withConsole(captured.console),
      Effect.provide(platform),
      Effect.provideService(WarmState, warm),
      Effect.locally(currentDependencies, deps),
      Effect.exit
    )
    let stderr = captured.stderr()
    const code = exitCodeOf(exit, (text) => {
      stderr += text
    })
    return { t: "result", stdout: captured.stdout(), stderr, code } satisfies Answer
  })

/** Read one request line (size-limited), then decline, refuse, or accept and answer. A client's mistake never throws. */
const handle = (socket: Socket, self: Parameters<typeof declineReason>[1], run: (r: Request) => Promise<Answer>, log: (text: string) => void) => {
  let buffered = Buffer.alloc(0)
  let read = false
  const finish = (a: Answer) => {
    read = true
    clearTimeout(timer)
    socket.end(line(a))
  }
  const timer = setTimeout(() => finish({ t: "error", message: `no request within ${REQUEST_TIMEOUT_MS / 1000} s` }), REQUEST_TIMEOUT_MS)
  socket.on("error", () => clearTimeout(timer)) // the client went away; nothing to answer
  socket.on("data", (chunk: Buffer) => {
    if (read) return
    buffered = Buffer.concat([buffered, chunk])
    const nl = buffered.indexOf(10)
    if (nl < 0 ? buffered.length > MAX_REQUEST_BYTES : nl > MAX_REQUEST_BYTES) {
      return finish({ t: "error", message: `request larger than ${MAX_REQUEST_BYTES} bytes` })
    }
    if (nl < 0) return
    read = true
    clearTimeout(timer)
    const parsed = parseRequest(buffered.subarray(0, nl).toString("utf8"))
    if (!parsed.ok) return finish({ t: "error", message: parsed.error })
    const why = declineReason(parsed.request, self)
    if (why !== undefined) return finish({ t: "declined", reason: why })
    // Run only once the client can know it was accepted: a client gone before this write has nothing done for it.
    // Handed to the kernel at once (write returns true), it runs now: the write's callback came ≈ 20 ms later in Bun.
    let started = false
    const start = () => {
      if (started || socket.destroyed) return
      started = true
      const t0 = performance.now()
      void run(parsed.request).then((answer) => {
        const words = parsed.request.argv.slice(2, 4).join(" ")
        log(`served \`${words}\` in ${Math.round(performance.now() - t0)} ms (exit ${answer.t === "result" ? answer.code : "?"})`)
        if (!socket.destroyed) socket.end(line(answer))
      })
    }
    if (socket.write(line({ t: "accepted" }), (e) => (e ? undefined : start()))) start()
  })
}

/** Does a server answer on `path`? (A socket file left by a killed server refuses connections.) */
const answers = (path: string) =>
  Effect.async<boolean>((resume) => {
    const s = createConnection(path)
    const done = (ok: boolean) => {
      s.destroy()
      resume(Effect.succeed(ok))
    }
    s.setTimeout(1_000, () => done(false))
    s.on("connect", () => done(true))
    s.on("error", () => done(false))
  })

const stateError = (path: string, operation: string) => (e: unknown) =>
  new StateError({ path, operation, detail: e instanceof Error ? e.message : String(e) })

/** The socket's directory, 0700 and this user's (it is the only access check there is). */
const privateDir = (dir: string) =>
  Effect.try({
    try: () => {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      chmodSync(dir, 0o700)
      const st = statSync(dir)
      if (typeof process.getuid === "function" && st.uid !== process.getuid()) throw new Error(`owned by uid ${st.uid}, not ${process.getuid()}`)
    },
    catch: stateError(dir, "make the control socket's private directory")
  })

const listen = (path: string, onConnection: (s: Socket) => void) =>
  Effect.acquireRelease(
    Effect.async<{ server: Server; ino: number }, StateError>((resume) => {
      const server = createServer(onConnection)
      server.once("error", (e) => resume(Effect.fail(stateError(path, "listen on")(e))))
      server.listen(path, () => {
        try {
          chmodSync(path, 0o600)
          resume(Effect.succeed({ server, ino: lstatSync(path).ino }))
        } catch (e) {
          server.close()
          resume(Effect.fail(stateError(path, "restrict")(e)))
        }
      })
    }),
    ({ server, ino }) =>
      Effect.sync(() => {
        server.close()
        try {
          if (lstatSync(path).ino === ino) rmSync(path, { force: true }) // a newer server's socket is left alone
        } catch {
          // already gone
        }
      })
  )

/**
 * Serve until interrupted. Returns "held" at once, serving nothing, when another server already answers on this
 * HAL9000_HOME's socket.
 */
export const serveControl = Effect.gen(function* () {
  const { settings } = yield* Settings
  yield* ensureHome(settings)
  const path = controlSocketPath({ HAL9000_HOME: settings.home }, settings.home)!
  yield* privateDir(dirname(path))
  if (yield* answers(path)) {
    yield* Effect.logWarning(`another claudy server answers on ${path}; this one does not serve`)
    return "held" as const
  }
  yield* Effect.sync(() => rmSync(path, { force: true })) // a killed server's socket
  const platform = yield* Effect.context<Platform>()
  const warm = yield* warmState((yield* Engine).address)
  const runtime = yield* Effect.runtime<never>()
  const log = (text: string) => Runtime.runFork(runtime)(Effect.logDebug(text))
  const self = { build: BUILD_ID, home: process.env.HOME }
  const replies = makeReplies(warm.generation)
  // Each request runs on its own (default) runtime: nothing of the server's fibers (log annotations, loggers) leaks in.
  const run = (r: Request): Promise<Answer> => {
    if (!keepsAnswer(r)) return Effect.runPromise(runRequest(r, platform, warm, undefined))
    const reused = replies.reuse(r)
    if (reused !== undefined) return Promise.resolve(reused)
    const computing = replies.begin(r)
    return Effect.runPromise(runRequest(r, platform, warm, computing.deps)).then((answer) => {
      computing.keep(answer)
      return answer
    })
  }
  yield* listen(path, (socket) => handle(socket, self, run, log))
  yield* Effect.logInfo(`serving claudy commands on ${path}`)
  return yield* Effect.never
}).pipe(Effect.scoped, Effect.annotateLogs({ service: "control-server" }))
