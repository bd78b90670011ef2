/**
 * Poll a synchronous host check (a FIFO that opens, a pid file that names its process, a process that is gone) until
 * it holds or `waitMs` passed. Hand-written on a timer rather than a Schedule: at a 2 ms interval (the slot hand-off,
 * on every spawn's critical path) a repeat through the fiber scheduler costs more than the check itself.
 */
import { Effect } from "effect"

/** true once `check` returned true; false when `waitMs` passed first. Checked at once, then every `everyMs`. */
export const pollUntil = (check: () => boolean, waitMs: number, everyMs: number) =>
  Effect.async<boolean>((resume) => {
    const deadline = Date.now() + waitMs
    let timer: ReturnType<typeof setTimeout> | undefined
    const step = () => {
      if (check()) resume(Effect.succeed(true))
      else if (Date.now() >= deadline) resume(Effect.succeed(false))
      else timer = setTimeout(step, everyMs)
    }
    step()
    return Effect.sync(() => clearTimeout(timer))
  })
