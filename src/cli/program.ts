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

/** SIGTERM is how systemd and `pool stop` end a foreground loop: a clean stop, exit 0. Ctrl-C (SIGINT) is 130. */
let terminated = false

/** For the process that runs a command itself (not for the control server's requests): SIGTERM means a clean stop. */
export const exitZeroOnSigterm = () =>
  process.once("SIGTERM", () => {
    terminated = true
  })

export const program = (argv: ReadonlyArray<string>) => {
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
 * For runMain's teardown (and the control server's answers): success 0, SilentExit its code, interrupt 130, anything
 * else 1 (after printing it to `stderr`).
 */
export const exitCodeOf = (
  exit: Exit.Exit<unknown, unknown>,
  stderr: (text: string) => void = (text) => process.stderr.write(text)
): number => {
  if (Exit.isSuccess(exit)) return EXIT.ok
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure) && failure.value instanceof SilentExit) return failure.value.code
  if (Cause.isInterruptedOnly(exit.cause)) return terminated ? EXIT.ok : EXIT.interrupted
  stderr(`Error: unexpected failure (a bug in claudy; please report it)\n${Cause.pretty(exit.cause)}\n`)
  return EXIT.failure
}

export const teardown = (exit: Exit.Exit<unknown, unknown>, onExit: (code: number) => void) => onExit(exitCodeOf(exit))
