import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { keepable, keptParses } from "../../src/cli/keptParses.ts"

describe("kept parses", () => {
  test("an argv with a built-in flag, in any spelling, is never kept", () => {
    expect(keepable(["claudy", "x", "--via-parent", "-d", "."])).toBe(true)
    for (const flag of ["--help", "-h", "--version", "--wizard", "--completions=bash", "--log-level", "--log-level=debug"]) {
      expect(keepable(["claudy", "x", ".", flag])).toBe(false)
    }
  })

  test("what the handler was given during a parse is known for that argv, and only for it", async () => {
    const k = keptParses<{ readonly n: number }>()
    const given: Array<number> = []
    const handler = k.keeping((a: { readonly n: number }) => Effect.sync(() => given.push(a.n)))
    await Effect.runPromise(k.parse(["c", "x", "a"], handler({ n: 1 })))
    expect(k.known(["c", "x", "a"])).toEqual({ n: 1 })
    expect(k.known(["c", "x", "b"])).toBeUndefined()
    // a later parse of the same argv does not replace it; a handler run outside a parse keeps nothing
    await Effect.runPromise(k.parse(["c", "x", "a"], handler({ n: 2 })))
    await Effect.runPromise(handler({ n: 3 }))
    expect(k.known(["c", "x", "a"])).toEqual({ n: 1 })
    expect(given).toEqual([1, 2, 3])
  })

  test("an argv that may not be kept is parsed each time", async () => {
    const k = keptParses<number>()
    await Effect.runPromise(k.parse(["c", "x", "--log-level=debug"], k.keeping((n: number) => Effect.succeed(n))(1)))
    expect(k.known(["c", "x", "--log-level=debug"])).toBeUndefined()
  })

  test("at most 32 argvs are kept, the oldest going first", async () => {
    const k = keptParses<number>()
    const h = k.keeping((n: number) => Effect.succeed(n))
    for (let i = 0; i < 33; i++) await Effect.runPromise(k.parse(["c", "x", String(i)], h(i)))
    expect(k.known(["c", "x", "0"])).toBeUndefined()
    expect(k.known(["c", "x", "1"])).toBe(1)
    expect(k.known(["c", "x", "32"])).toBe(32)
  })
})
