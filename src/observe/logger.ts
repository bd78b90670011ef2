/**
 * Logs go to stderr (stdout is for results a Makefile may parse). HAL9000_LOG_LEVEL and HAL9000_LOG_FORMAT are read
 * leniently here because logging must work before settings are validated; Settings rejects bad values anyway.
 */
import { Config, Effect, Layer, Logger, LogLevel } from "effect"

const levels: Record<string, LogLevel.LogLevel> = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  error: LogLevel.Error
}

const textLogger = Logger.make(({ logLevel, message, annotations }) => {
  const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
  const extras = [...annotations].map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ")
  process.stderr.write(`claudy ${logLevel.label.toLowerCase()}: ${text}${extras ? ` ${extras}` : ""}\n`)
})

const jsonLogger = Logger.withConsoleError(Logger.jsonLogger)

export const loggerLayer = Layer.unwrapEffect(
  Effect.gen(function* () {
    const level = yield* Config.string("HAL9000_LOG_LEVEL").pipe(Config.withDefault("info"))
    const format = yield* Config.string("HAL9000_LOG_FORMAT").pipe(Config.withDefault("text"))
    return Layer.merge(
      Logger.replace(Logger.defaultLogger, format === "json" ? jsonLogger : textLogger),
      Logger.minimumLogLevel(levels[level] ?? LogLevel.Info)
    )
  }).pipe(Effect.orElseSucceed(() => Layer.empty))
)
