import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { resolveSettings } from "../../src/config/variables.ts"
import { afterRestart, DEFAULT_POLICY, initialWatchdog, observe, type WatchdogState } from "../../src/daemon/watchdog.ts"
import { histogram, render } from "../../src/observe/prometheus.ts"
import { diskLevel, homeModeLevel } from "../../src/ops/doctor.ts"

describe("watchdog: backoff and circuit breaker", () => {
  test("healthy needs nothing and closes everything", () => {
    const r = observe({ ...initialWatchdog, failures: 3, unhealthy: 2 }, "healthy", 0)
    expect(r.restart).toBe(false)
    expect(r.state).toMatchObject({ failures: 0, unhealthy: 0, circuit: "closed" })
  })
  test("a down parent is restarted at once; an unhealthy one after two observations", () => {
    expect(observe(initialWatchdog, "down", 0).restart).toBe(true)
    const once = observe(initialWatchdog, "unhealthy", 0)
    expect(once.restart).toBe(false)
    expect(observe(once.state, "unhealthy", 1).restart).toBe(true)
  })
  test("failed restarts back off exponentially, capped", () => {
    let s: WatchdogState = initialWatchdog
    const waits: Array<number> = []
    for (let i = 0; i < 4; i++) {
      s = afterRestart(s, false, 1000)
      waits.push(s.nextAttemptAtMs - 1000)
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000])
    expect(observe(s, "down", 1000 + 7999).restart).toBe(false)
    expect(observe(s, "down", 1000 + 8000).restart).toBe(true)
    const capped = afterRestart({ ...s, failures: 20, circuit: "closed" }, false, 0, { ...DEFAULT_POLICY, threshold: 99 })
    expect(capped.nextAttemptAtMs).toBe(DEFAULT_POLICY.maxBackoffMs)
  })
  test("opens after the threshold, half-opens after the cool-down, closes on success", () => {
    let s: WatchdogState = initialWatchdog
    for (let i = 0; i < DEFAULT_POLICY.threshold; i++) s = afterRestart(s, false, 0)
    expect(s.circuit).toBe("open")
    expect(observe(s, "down", 29_999).restart).toBe(false)
    const half = observe(s, "down", 60_000)
    expect(half.state.circuit).toBe("half-open")
    expect(half.restart).toBe(true)
    expect(afterRestart(half.state, false, 60_000).circuit).toBe("open")
    const closed = afterRestart(half.state, true, 60_000)
    expect(closed).toMatchObject({ circuit: "closed", failures: 0 })
  })
  test("counts restarts", () => expect(afterRestart(afterRestart(initialWatchdog, false, 0), true, 5000).restarts).toBe(2))
})

describe("prometheus text", () => {
  test("families with labels and escaping", () => {
    expect(
      render([
        { name: "m_up", help: "up", type: "gauge", samples: [{ value: 1 }] },
        { name: "m_x", help: "x", type: "counter", samples: [{ labels: { a: 'q"b' }, value: 2 }] }
      ])
    ).toBe('# HELP m_up up\n# TYPE m_up gauge\nm_up 1\n# HELP m_x x\n# TYPE m_x counter\nm_x{a="q\\"b"} 2\n')
  })
  test("histograms are cumulative with +Inf, sum and count", () => {
    const text = render([histogram("h", "h", [0.01, 0.2, 3], [0.1, 1])])
    expect(text).toContain('h_bucket{le="0.1"} 1')
    expect(text).toContain('h_bucket{le="1"} 2')
    expect(text).toContain('h_bucket{le="+Inf"} 3')
    expect(text).toContain("h_sum 3.21")
    expect(text).toContain("h_count 3")
  })
})

describe("doctor verdicts", () => {
  test("disk", () => {
    expect(diskLevel(0.5 * 1024 ** 3)).toBe("fail")
    expect(diskLevel(3 * 1024 ** 3)).toBe("warn")
    expect(diskLevel(50 * 1024 ** 3)).toBe("ok")
  })
  test("HAL9000_HOME mode", () => {
    expect(homeModeLevel(0o40700)).toBe("ok")
    expect(homeModeLevel(0o40755)).toBe("warn")
  })
})

describe("HAL9000_HTTP_ADDR", () => {
  const addr = (v: string) => resolveSettings({ env: { HAL9000_HTTP_ADDR: v } })
  test("host:port and none", () => {
    expect(Either.map(addr("127.0.0.1:9090"), (r) => r.settings.httpAddr)).toEqual(Either.right({ host: "127.0.0.1", port: 9090 }))
    expect(Either.map(addr("[::1]:9"), (r) => r.settings.httpAddr)).toEqual(Either.right({ host: "::1", port: 9 }))
    expect(Either.map(addr("none"), (r) => r.settings.httpAddr)).toEqual(Either.right(null))
  })
  test.each(["9090", "host:", ":9090", "h:70000", ""])("%p is refused", (v) => expect(Either.isLeft(addr(v))).toBe(true))
})
