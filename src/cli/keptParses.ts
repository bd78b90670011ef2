/**
 * What @effect/cli made of an argv, kept by argv for the next identical one: the control server runs the same command
 * again and again (a Makefile's `claudy -d --new .`), and @effect/cli's parse of the spawn options cost a served
 * spawn ≈ 2.4 ms of its time (measured; it is thousands of Effect steps). Only for a command whose options are a pure
 * function of argv (text and boolean flags: no file looked at, no environment read), so the kept value is what the
 * parse would give. An argv with a built-in flag (help, version, wizard, completions, --log-level) is never kept:
 * @effect/cli acts on those itself, around or instead of the handler.
 */
import { Effect, FiberRef } from "effect"
import { ROOT_FLAGS } from "./argvShape.ts"

/** At most this many argvs are kept; the oldest goes first. */
const KEEP = 32

const BUILT_IN_FLAGS = [...ROOT_FLAGS]

/** Whether the handler's input for `args` may be kept (pure): no built-in flag in any spelling. */
export const keepable = (args: ReadonlyArray<string>) =>
  !args.some((a) => BUILT_IN_FLAGS.some((flag) => a === flag || a.startsWith(`${flag}=`)))

export const keptParses = <A>() => {
  const kept = new Map<string, A>()
  /** The argv being parsed (its key), for the handler to keep what it is given under it. */
  const parsing = FiberRef.unsafeMake<string | undefined>(undefined)
  const keyOf = (args: ReadonlyArray<string>) => (keepable(args) ? JSON.stringify(args) : undefined)
  return {
    /** `handler`, keeping what it is given under the argv being parsed. */
    keeping:
      <B, E, R>(handler: (a: A) => Effect.Effect<B, E, R>) =>
      (a: A): Effect.Effect<B, E, R> =>
        Effect.flatMap(FiberRef.get(parsing), (key) => {
          if (key !== undefined && !kept.has(key)) {
            if (kept.size >= KEEP) kept.delete(kept.keys().next().value!)
            kept.set(key, a)
          }
          return handler(a)
        }),
    /** What the handler was given for `args` before, if it was kept. */
    known: (args: ReadonlyArray<string>): A | undefined => {
      const key = keyOf(args)
      return key === undefined ? undefined : kept.get(key)
    },
    /** `run` (the parse, then the handler) of `args`, its handler's input kept when `args` may be. */
    parse: <B, E, R>(args: ReadonlyArray<string>, run: Effect.Effect<B, E, R>): Effect.Effect<B, E, R> => {
      const key = keyOf(args)
      return key === undefined ? run : Effect.locally(run, parsing, key)
    }
  }
}
