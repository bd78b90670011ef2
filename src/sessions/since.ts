/**
 * `sessions logs --since` as `docker logs --since` reads it (pure): a duration back from now (`90s`, `10m`,
 * `1h30m`), an RFC 3339 date or time (`2026-12-02`, `2026-12-02T05:00:00.123Z`), or Unix seconds. Returns the
 * engine's form, `seconds.nanoseconds` (a bare fraction would be read as nanoseconds).
 */
import { Either } from "effect"

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 }

export const SINCE_FORM = "a duration like 90s, 10m or 1h30m, a date like 2026-12-02T05:00:00Z, or Unix seconds"

const engineForm = (ms: number) => `${Math.floor(ms / 1000)}.${String(Math.round(ms % 1000) * 1_000_000).padStart(9, "0")}`

export const parseSince = (raw: string, nowMs: number): Either.Either<string, string> => {
  const v = raw.trim()
  if (/^\d+(\.\d+)?$/.test(v)) return Either.right(engineForm(Number(v) * 1000))
  if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(v)) {
    const seconds = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * UNITS[unit!]!, 0)
    return Either.right(engineForm(nowMs - seconds * 1000))
  }
  const date = /^\d{4}-\d\d-\d\d([T ][\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(v) ? Date.parse(v) : Number.NaN
  return Number.isNaN(date) ? Either.left(SINCE_FORM) : Either.right(engineForm(date))
}
