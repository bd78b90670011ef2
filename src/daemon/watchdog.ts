/**
 * The supervisor's decisions (pure): when to restart the parent, with exponential backoff between attempts, and a
 * circuit breaker that stops retrying after repeated failures — open, then half-open after a cool-down (one trial),
 * closed again on success — as operators know it from neighbouring tools.
 */
export type CircuitState = "closed" | "open" | "half-open"

export interface WatchdogState {
  readonly circuit: CircuitState
  /** consecutive failed restarts */
  readonly failures: number
  /** consecutive unhealthy observations */
  readonly unhealthy: number
  readonly openedAtMs: number | null
  readonly nextAttemptAtMs: number
  readonly restarts: number
}

export interface WatchdogPolicy {
  /** failed restarts that open the circuit */
  readonly threshold: number
  readonly coolDownMs: number
  readonly baseBackoffMs: number
  readonly maxBackoffMs: number
  /** unhealthy observations of a running parent before a restart (a stopped or absent parent needs one) */
  readonly unhealthyBeforeRestart: number
}

export const DEFAULT_POLICY: WatchdogPolicy = {
  threshold: 5,
  coolDownMs: 30_000,
  baseBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  unhealthyBeforeRestart: 2
}

export const initialWatchdog: WatchdogState = {
  circuit: "closed",
  failures: 0,
  unhealthy: 0,
  openedAtMs: null,
  nextAttemptAtMs: 0,
  restarts: 0
}

export type Observation = "healthy" | "unhealthy" | "down"

/** After an observation: whether to restart now, and the new state (the circuit may go half-open). */
export const observe = (
  s: WatchdogState,
  o: Observation,
  nowMs: number,
  p: WatchdogPolicy = DEFAULT_POLICY
): { readonly restart: boolean; readonly state: WatchdogState } => {
  if (o === "healthy") return { restart: false, state: { ...s, unhealthy: 0, failures: 0, circuit: "closed", openedAtMs: null } }
  const unhealthy = s.unhealthy + 1
  let circuit = s.circuit
  if (circuit === "open") {
    if (s.openedAtMs !== null && nowMs - s.openedAtMs >= p.coolDownMs) circuit = "half-open"
    else return { restart: false, state: { ...s, unhealthy } }
  }
  const due = o === "down" || unhealthy >= p.unhealthyBeforeRestart
  const restart = due && nowMs >= s.nextAttemptAtMs
  return { restart, state: { ...s, unhealthy, circuit } }
}

/** After a restart attempt. */
export const afterRestart = (s: WatchdogState, ok: boolean, nowMs: number, p: WatchdogPolicy = DEFAULT_POLICY): WatchdogState => {
  if (ok) return { ...s, circuit: "closed", failures: 0, unhealthy: 0, openedAtMs: null, nextAttemptAtMs: 0, restarts: s.restarts + 1 }
  const failures = s.failures + 1
  const backoff = Math.min(p.baseBackoffMs * 2 ** (failures - 1), p.maxBackoffMs)
  const open = s.circuit === "half-open" || failures >= p.threshold
  return {
    ...s,
    failures,
    restarts: s.restarts + 1,
    circuit: open ? "open" : s.circuit,
    openedAtMs: open ? nowMs : s.openedAtMs,
    nextAttemptAtMs: nowMs + backoff
  }
}
