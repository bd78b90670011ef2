/**
 * Logs go to stderr (stdout is for results a Makefile may parse). HAL9000_LOG_LEVEL and HAL9000_LOG_FORMAT are read
 * leniently here, straight from the environment, because logging must work before settings are validated (Settings
 * rejects bad values anyway) and because it is on every start: two Effect Config reads plus Logger layers cost
 * ≈ 4 ms of each command, two FiberRef sets ≈ 0 (measured on the compiled binary).
 */
import { Effect, FiberRef, HashSet, Logger, LogLevel } from "effect"

const levels: Record<string, LogLevel.LogLevel> = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  error: LogLevel.Error
}

// Through the fiber's Console (console.error unless the control server runs a client's command and captures its
// stderr), not process.stderr.write: in the compiled binary the first use of process.stderr builds Node's stream
// machinery, ≈ 7 ms of a command that logs one line (measured); console prints a lone string unformatted.
const textLogger = Logger.withConsoleError(
  Logger.make(({ logLevel, message, annotations }) => {
    const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
    const extras = [...annotations].map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ")
    return `claudy ${logLevel.label.toLowerCase()}: ${text}${extras ? ` ${extras}` : ""}`
  })
)

const jsonLogger = Logger.withConsoleError(Logger.jsonLogger)

/**
 * Run `self` with claudy's logger (in place of Effect's default one) and minimum level, as the environment asks:
 * this process's, or a client's when the control server runs its command.
 */
export const withLogger = <A, E, R>(self: Effect.Effect<A, E, R>, env: Readonly<Record<string, string | undefined>> = process.env) => {
  const logger = env.HAL9000_LOG_FORMAT === "json" ? jsonLogger : textLogger
  return self.pipe(
    Logger.withMinimumLogLevel(levels[env.HAL9000_LOG_LEVEL ?? "info"] ?? LogLevel.Info),
    Effect.locallyWith(FiberRef.currentLoggers, (set) => HashSet.add(HashSet.remove(set, Logger.defaultLogger), logger))
  )
}
