/**
 * A Console for one served request: what the command prints (results through Console.log, reports and logs through
 * Console.error and the logger) is collected for the client instead of going to the server's own stdout/stderr.
 * Formatting is Node's (util.format), as console.log's in the client's own process.
 */
import { Console, Effect } from "effect"
import { format } from "node:util"

export interface Captured {
  readonly console: Console.Console
  readonly stdout: () => string
  readonly stderr: () => string
}

export const captureConsole = (base: Console.Console): Captured => {
  const out: Array<string> = []
  const err: Array<string> = []
  const toOut = (...args: ReadonlyArray<unknown>) => void out.push(`${format(...args)}\n`)
  const toErr = (...args: ReadonlyArray<unknown>) => void err.push(`${format(...args)}\n`)
  const unsafe: Console.UnsafeConsole = {
    ...base.unsafe,
    log: toOut,
    info: toOut,
    debug: toOut,
    dir: (item: unknown) => toOut(item),
    error: toErr,
    warn: toErr,
    trace: toErr
  }
  const console: Console.Console = {
    ...base,
    unsafe,
    log: (...args) => Effect.sync(() => toOut(...args)),
    info: (...args) => Effect.sync(() => toOut(...args)),
    debug: (...args) => Effect.sync(() => toOut(...args)),
    dir: (item) => Effect.sync(() => toOut(item)),
    error: (...args) => Effect.sync(() => toErr(...args)),
    warn: (...args) => Effect.sync(() => toErr(...args)),
    trace: (...args) => Effect.sync(() => toErr(...args))
  }
  return { console, stdout: () => out.join(""), stderr: () => err.join("") }
}
