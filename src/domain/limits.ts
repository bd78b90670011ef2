/**
 * Resource limits in Docker's own syntax, parsed to the numbers the Engine API takes.
 * Docker treats 0 and -1 as "unlimited", so a limit that is written must be positive: unlimited is `--no-limits`.
 */
import { Either } from "effect"

const MEMORY_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }
/** Docker refuses containers with less than 6 MiB of memory. */
export const MIN_MEMORY_BYTES = 6 * 1024 ** 2

export const MEMORY_FORM = "a size like 512m, 4g or 8192k (at least 6m; unlimited is --no-limits)"
export const CPUS_FORM = "a positive number of CPUs like 1, 1.5 or 0.25 (unlimited is --no-limits)"
export const PIDS_FORM = "a whole number of processes of at least 1, like 100 (unlimited is --no-limits)"

export const parseMemory = (raw: string): Either.Either<number, string> => {
  const m = /^([0-9]+(?:\.[0-9]+)?)([bkmgt]?)$/i.exec(raw.trim())
  if (m === null) return Either.left(MEMORY_FORM)
  const bytes = Math.floor(Number(m[1]) * MEMORY_UNITS[m[2]!.toLowerCase()]!)
  return bytes >= MIN_MEMORY_BYTES ? Either.right(bytes) : Either.left(MEMORY_FORM)
}

export const parseCpus = (raw: string): Either.Either<number, string> => {
  if (!/^[0-9]+(?:\.[0-9]+)?$/.test(raw.trim())) return Either.left(CPUS_FORM)
  const nano = Math.round(Number(raw) * 1e9)
  // Docker's smallest CPU quota is 0.01 CPU.
  return nano >= 1e7 ? Either.right(nano) : Either.left(CPUS_FORM)
}

export const parsePids = (raw: string): Either.Either<number, string> => {
  if (!/^[0-9]+$/.test(raw.trim())) return Either.left(PIDS_FORM)
  const n = Number(raw)
  return n >= 1 && Number.isSafeInteger(n) ? Either.right(n) : Either.left(PIDS_FORM)
}
