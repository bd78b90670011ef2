/** A spawn's resource limits from its flags and the WORKER_* defaults (pure). */
import { Either } from "effect"
import type { Settings } from "../config/variables.ts"
import { ConfigInvalid, UsageError } from "../domain/errors.ts"
import { CPUS_FORM, MEMORY_FORM, parseCpus, parseMemory, parsePids, PIDS_FORM } from "../domain/limits.ts"

export interface Limits {
  readonly enabled: boolean
  readonly memory: { readonly raw: string; readonly bytes: number } | null
  readonly cpus: { readonly raw: string; readonly nanoCpus: number } | null
  readonly pidsLimit: number | null
}

export interface LimitFlags {
  readonly memory?: string | undefined
  readonly cpus?: string | undefined
  readonly pidsLimit?: string | undefined
  readonly noLimits: boolean
}

const flag = <A>(name: string, raw: string, parse: (r: string) => Either.Either<A, string>, form: string) =>
  Either.mapLeft(parse(raw), () => new ConfigInvalid({ variable: name, value: raw, expected: form, source: "flag" }))

export const resolveLimits = (f: LimitFlags, s: Settings): Either.Either<Limits, ConfigInvalid | UsageError> => {
  const given = [
    f.memory !== undefined && "--memory",
    f.cpus !== undefined && "--cpus",
    f.pidsLimit !== undefined && "--pids-limit"
  ].filter((x): x is string => typeof x === "string")
  if (f.noLimits) {
    return given.length > 0
      ? Either.left(
          new UsageError({
            detail: `--no-limits cannot be combined with ${given.join(", ")}`,
            fix: "drop --no-limits to set limits, or drop the limit flags to run without any"
          })
        )
      : Either.right({ enabled: false, memory: null, cpus: null, pidsLimit: null })
  }
  return Either.all({
    memory:
      f.memory === undefined
        ? Either.right(s.workerMemory)
        : Either.map(flag("--memory", f.memory, parseMemory, MEMORY_FORM), (bytes) => ({ raw: f.memory!, bytes })),
    cpus:
      f.cpus === undefined
        ? Either.right(s.workerCpus)
        : Either.map(flag("--cpus", f.cpus, parseCpus, CPUS_FORM), (nanoCpus) => ({ raw: f.cpus!, nanoCpus })),
    pidsLimit: f.pidsLimit === undefined ? Either.right(s.workerPidsLimit) : flag("--pids-limit", f.pidsLimit, parsePids, PIDS_FORM)
  }).pipe(Either.map((l) => ({ enabled: true, ...l })))
}
