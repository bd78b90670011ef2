/** Statistics and their formatting, shared by the benches (test/bench/run.ts, test/bench/swarm.ts). */

export interface Stat {
  readonly median: number
  readonly mean: number
  readonly stddev: number
  readonly min: number
  readonly max: number
  readonly runs: number
  /** mean CPU time (user + system) of one run, when hyperfine measured it */
  readonly cpu?: number
  /** every run's seconds */
  readonly times?: ReadonlyArray<number>
}

/** Median, mean, spread of a list of seconds. */
export const statsOf = (times: ReadonlyArray<number>): Stat => {
  const sorted = [...times].sort((a, b) => a - b)
  const mean = times.reduce((x, y) => x + y, 0) / times.length
  return {
    median: sorted[Math.floor(sorted.length / 2)]!,
    mean,
    stddev: Math.sqrt(times.reduce((x, y) => x + (y - mean) ** 2, 0) / times.length),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    runs: times.length,
    times
  }
}

export const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`
export const spread = (s: Stat) => `${ms(s.median)} (± ${ms(s.stddev)}, ${s.runs} runs)`

/** One row of a benchmarks table: a claudy figure next to its baseline. */
export interface Row {
  readonly figure: string
  readonly claudy: string
  readonly baseline: string
  readonly ratio: string
  readonly target: string
  readonly met: boolean | undefined
}

/** A figure against its baseline by medians; without a target the ratio is only reported. */
export const comparedRow = (figure: string, c: Stat, base: Stat, baseName: string, target?: number): Row => {
  const r = c.median / base.median
  return {
    figure,
    claudy: spread(c),
    baseline: `${baseName}: ${spread(base)}`,
    ratio: `${r.toFixed(2)}×`,
    target: target === undefined ? "reported" : `≤ ${target}×`,
    met: target === undefined ? undefined : r <= target
  }
}

export const tableRows = (rows: ReadonlyArray<Row>) =>
  rows.map((r) => `| ${r.figure} | ${r.claudy} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met === undefined ? "—" : r.met ? "yes" : "**no**"} |`).join("\n")
