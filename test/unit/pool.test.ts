import { describe, expect, test } from "bun:test"
import { type ObservedWarm, planPool, STARTING_GRACE_MS } from "../../src/pool/plan.ts"
import { renderSessionScript, shQuote } from "../../src/pool/sessionScript.ts"

const w = (id: string, over: Partial<ObservedWarm> = {}): ObservedWarm => ({
  id,
  name: `hal9000-warm-${id}`,
  slot: id,
  project: "/p",
  running: true,
  createdAtMs: 0,
  ...over
})
const t = (over: Partial<{ target: number; max: number; idleTimeoutMs: number; nowMs: number }> = {}) => ({
  target: 2,
  max: 5,
  idleTimeoutMs: 300_000,
  nowMs: 1_000,
  ...over
})
const tags = (actions: ReadonlyArray<{ _tag: string }>) => actions.map((a) => a._tag)

describe("pool plan", () => {
  test("fills up to the target for the known projects", () => {
    expect(planPool([], ["/p"], t())).toEqual([
      { _tag: "create", project: "/p" },
      { _tag: "create", project: "/p" }
    ])
  })
  test("spreads across projects, fewest warm first", () => {
    const a = planPool([w("a", { project: "/p" })], ["/p", "/q"], t({ target: 3 }))
    expect(a).toEqual([
      { _tag: "create", project: "/q" },
      { _tag: "create", project: "/p" }
    ])
  })
  test("nothing to create without projects", () => expect(planPool([], [], t())).toEqual([]))
  test("dead unclaimed workers are removed and replaced", () => {
    const a = planPool([w("a"), w("b", { running: false })], ["/p"], t({ nowMs: STARTING_GRACE_MS }))
    expect(a).toContainEqual({ _tag: "remove", id: "b", slot: "b", reason: "dead" })
    expect(a.filter((x) => x._tag === "create")).toHaveLength(1)
  })
  test("a worker that ran and stopped (killed) is dead at once, within the starting grace too", () => {
    const killed = w("b", { running: false, ended: true, createdAtMs: 1_000 })
    expect(planPool([w("a"), killed], ["/p"], t({ nowMs: 2_000 }))).toContainEqual({ _tag: "remove", id: "b", slot: "b", reason: "dead" })
  })
  test("a worker not yet running within its starting grace is never removed, and counts toward the target", () => {
    const young = w("b", { running: false, createdAtMs: 1_000 })
    const a = planPool([w("a"), young], ["/p"], t({ nowMs: 1_000 + STARTING_GRACE_MS - 1 }))
    expect(a).toEqual([])
    expect(planPool([w("a"), young], ["/p"], t({ nowMs: 1_000 + STARTING_GRACE_MS }))).toContainEqual({ _tag: "remove", id: "b", slot: "b", reason: "dead" })
  })
  test("claimed workers are sessions: adopted, never removed or counted", () => {
    const a = planPool([w("a", { claimedBy: "s1" }), w("b", { claimedBy: "s2", running: false })], ["/p"], t())
    expect(a.filter((x) => x._tag === "adopt")).toHaveLength(2)
    expect(a.filter((x) => x._tag === "remove")).toHaveLength(0)
    expect(a.filter((x) => x._tag === "create")).toHaveLength(2)
  })
  test("a worker left claimed by an interrupted reap is removed", () =>
    expect(planPool([w("a", { claimedBy: "reaper" })], [], t({ target: 0 }))).toEqual([
      { _tag: "remove", id: "a", slot: "a", reason: "abandoned" }
    ]))
  test("over MAX: the oldest go at once", () => {
    const obs = ["a", "b", "c", "d"].map((id, i) => w(id, { createdAtMs: i }))
    const a = planPool(obs, ["/p"], t({ target: 2, max: 3 }))
    expect(a[0]).toEqual({ _tag: "remove", id: "a", slot: "a", reason: "over-max" })
  })
  test("above the target: only those idle past IDLE_TIMEOUT are reaped, oldest first, down to the target", () => {
    const obs = [w("old", { createdAtMs: 0 }), w("mid", { createdAtMs: 5_000 }), w("new", { createdAtMs: 9_000 })]
    expect(planPool(obs, ["/p"], t({ target: 1, idleTimeoutMs: 10_000, nowMs: 9_500 }))).toEqual([])
    expect(planPool(obs, ["/p"], t({ target: 1, idleTimeoutMs: 5_000, nowMs: 10_000 }))).toEqual([
      { _tag: "remove", id: "old", slot: "old", reason: "idle" },
      { _tag: "remove", id: "mid", slot: "mid", reason: "idle" }
    ])
  })
  test("at the target: nothing to do", () => expect(planPool([w("a"), w("b")], ["/p"], t())).toEqual([]))
  test("never plans more than MAX idle workers", () => {
    expect(tags(planPool([], ["/p"], t({ target: 9, max: 3 })))).toEqual(["create", "create", "create"])
  })
})

describe("session script", () => {
  test("quotes every value for sh", () => {
    expect(shQuote("it's")).toBe(`'it'\\''s'`)
    expect(renderSessionScript("s1", ["A=1", "B=x y", "C=a=b", "D=$(rm -rf /)"], ["sh", "-c", "echo 'hi'"])).toBe(
      [
        "# written by claudy: the session this worker serves",
        "export HAL9000_SESSION='s1'",
        "export A='1'",
        "export B='x y'",
        "export C='a=b'",
        "export D='$(rm -rf /)'",
        `set -- 'sh' '-c' 'echo '\\''hi'\\'''`,
        ""
      ].join("\n")
    )
  })
  test("no command keeps the image's default", () => expect(renderSessionScript("s", [], [])).not.toContain("set --"))
})

describe("mkfifo", () => {
  test("makes a FIFO with exactly the mode asked, whatever the umask, and refuses an existing path", async () => {
    const { mkdtempSync, rmSync, statSync } = await import("node:fs")
    const { join } = await import("node:path")
    const { tmpdir } = await import("node:os")
    const { mkfifo } = await import("../../src/pool/mkfifo.ts")
    const dir = mkdtempSync(join(tmpdir(), "claudy-fifo-"))
    const before = process.umask(0o077)
    try {
      const path = join(dir, "claim.fifo")
      mkfifo(path, 0o644)
      const st = statSync(path)
      expect(st.isFIFO()).toBe(true)
      expect(st.mode & 0o777).toBe(0o644)
      expect(() => mkfifo(path, 0o644)).toThrow()
    } finally {
      process.umask(before)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

import { sessionOf } from "../../src/pool/claims.ts"
describe("the session a worker serves", () => {
  const claim = (slot: string, by: string) => [slot, { slot, by, pid: 1, at: "" }] as const
  const claims = new Map([claim("s1", "review"), claim("s2", "reaper"), claim("s3", "unknown")])
  test("a cold worker's label; a warm worker's claim; none for idle, reaped or unreadable claims", () => {
    expect(sessionOf({ "io.hal9000.role": "worker", "io.hal9000.session": "cold1" }, claims)).toBe("cold1")
    expect(sessionOf({ "io.hal9000.role": "warm", "io.hal9000.slot": "s1" }, claims)).toBe("review")
    expect(sessionOf({ "io.hal9000.role": "warm", "io.hal9000.slot": "s2" }, claims)).toBeUndefined()
    expect(sessionOf({ "io.hal9000.role": "warm", "io.hal9000.slot": "s3" }, claims)).toBeUndefined()
    expect(sessionOf({ "io.hal9000.role": "warm", "io.hal9000.slot": "s4" }, claims)).toBeUndefined()
  })
})

describe("warm workers belong to one run of the parent", () => {
  test("an idle warm worker of an earlier parent run is replaced; a claimed one (a session) is left alone", () => {
    const plan = planPool(
      [w("old", { parentRun: "p1@t1" }), w("cur", { parentRun: "p1@t2" }), w("busy", { parentRun: "p1@t1", claimedBy: "s1" })],
      ["/p"],
      { ...t(), parentRun: "p1@t2" }
    )
    expect(plan).toContainEqual({ _tag: "remove", id: "old", slot: "old", reason: "stale-parent" })
    expect(plan).toContainEqual({ _tag: "adopt", id: "busy", name: "hal9000-warm-busy", slot: "busy", session: "s1" })
    expect(plan.filter((a) => a._tag === "create")).toHaveLength(1)
    expect(plan.some((a) => a._tag === "remove" && a.id === "cur")).toBe(false)
  })
  test("with the parent down, idle warm workers are removed (their network is gone) and none is created", () => {
    const plan = planPool([w("a", { parentRun: "p1@t1" })], ["/p"], { ...t(), parentRun: undefined })
    expect(plan[0]).toEqual({ _tag: "remove", id: "a", slot: "a", reason: "stale-parent" })
  })
})
