/**
 * The whole run of one command, shared by the Bun and Node/Deno entries: parse argv, run, and turn any failure
 * into one report (text or --json) and one exit code. Nothing else prints errors or chooses exit codes.
 */
import { ValidationError } from "@effect/cli"
import { Cause, Console, Effect, Exit, Option } from "effect"
import type { ClaudyError } from "../domain/errors.ts"
import { SilentExit } from "../domain/errors.ts"
import { EXIT } from "./exitCodes.ts"
import { describeError, renderReport } from "./report.ts"
import { cli } from "./root.ts"
import { SessionCommand, splitArgv } from "./sessionCommand.ts"

/**
 * The signal that ended the run, if any: runMain interrupts the main fiber on SIGINT and SIGTERM, so finalizers run
 * (containers and slots of an unfinished spawn are removed, a backup's parent started again) before the exit code.
 */
let signalled: "SIGINT" | "SIGTERM" | undefined
/** The foreground loops systemd and `pool stop` end with SIGTERM: for them SIGTERM is a clean stop. */
let foregroundLoop = false

/** `daemon run` and `pool run` (pure): the commands for which SIGTERM is the normal way to stop. */
export const isForegroundLoop = (argv: ReadonlyArray<string>) =>
  (argv[2] === "daemon" || argv[2] === "pool") && argv[3] === "run"

/**
 * The exit code after a signal (pure): SIGTERM ends a foreground loop with 0, anything else with 128 + the signal's
 * number (130 for Ctrl-C, 143 for SIGTERM), also when the work was done before the interrupt took effect: a command
 * that was killed (e.g. by `timeout`) is never reported as a success.
 */
export const signalExitCode = (signal: "SIGINT" | "SIGTERM", loop: boolean) =>
  signal === "SIGINT" ? EXIT.interrupted : loop ? EXIT.ok : EXIT.terminated

export const program = (argv: ReadonlyArray<string>) => {
  foregroundLoop = isForegroundLoop(argv)
  for (const s of ["SIGINT", "SIGTERM"] as const) process.once(s, () => (signalled ??= s))
  const wantsJson = argv.includes("--json")
  const report = (e: ClaudyError) =>
    Effect.gen(function* () {
      const r = describeError(e)
      yield* wantsJson ? Console.log(JSON.stringify({ error: r }, null, 2)) : Console.error(renderReport(r))
      return yield* new SilentExit({ code: r.exitCode })
    })
  const { cli: cliArgv, command } = splitArgv(argv)
  return Effect.suspend(() => cli(cliArgv)).pipe(
    Effect.provideService(SessionCommand, command),
    Effect.catchAll((e) =>
      e instanceof SilentExit
        ? Effect.fail(e)
        : ValidationError.isValidationError(e)
          ? // @effect/cli has already printed what was wrong with the arguments.
            Effect.fail(new SilentExit({ code: EXIT.usage }))
          : report(e)
    )
  )
}

/**
 * For runMain's teardown: success 0, SilentExit its code, after a signal 130/143 (0 for a foreground loop's SIGTERM),
 * anything else 1 (after printing it).
 */
export const exitCodeOf = (exit: Exit.Exit<unknown, unknown>): number => {
  const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
  if (Option.isSome(failure) && failure.value instanceof SilentExit) return failure.value.code
  if (signalled !== undefined && (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause))) return signalExitCode(signalled, foregroundLoop)
  if (Exit.isSuccess(exit)) return EXIT.ok
  if (Cause.isInterruptedOnly(exit.cause)) return EXIT.interrupted
  process.stderr.write(`Error: unexpected failure (a bug in claudy; please report it)\n${Cause.pretty(exit.cause)}\n`)
  return EXIT.failure
}

export const teardown = (exit: Exit.Exit<unknown, unknown>, onExit: (code: number) => void) => onExit(exitCodeOf(exit))
