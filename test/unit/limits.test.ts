import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { parseCpus, parseMemory, parsePids } from "../../src/domain/limits.ts"

const right = <A>(e: Either.Either<A, string>) => (Either.isRight(e) ? e.right : undefined)

describe("limits in Docker syntax", () => {
  test.each([
    ["512m", 512 * 1024 ** 2],
    ["4g", 4 * 1024 ** 3],
    ["4G", 4 * 1024 ** 3],
    ["8192k", 8192 * 1024],
    ["1.5g", 1.5 * 1024 ** 3],
    ["104857600", 104857600]
  ])("memory %p -> %p bytes", (raw, bytes) => expect(right(parseMemory(raw))).toBe(bytes))

  test.each(["0", "-1", "", "lots", "4x", "4 g", "1m", "g"])("memory %p is rejected", (raw) =>
    expect(Either.isLeft(parseMemory(raw))).toBe(true)
  )

  test.each([
    ["1", 1e9],
    ["1.5", 1.5e9],
    ["0.25", 0.25e9]
  ])("cpus %p -> %p nano", (raw, nano) => expect(right(parseCpus(raw))).toBe(nano))

  test.each(["0", "-1", "", "lots", "0.001", "2c"])("cpus %p is rejected", (raw) =>
    expect(Either.isLeft(parseCpus(raw))).toBe(true)
  )

  test.each([["100", 100], ["1", 1]])("pids %p -> %p", (raw, n) => expect(right(parsePids(raw))).toBe(n))
  test.each(["0", "-1", "", "lots", "1.5"])("pids %p is rejected", (raw) => expect(Either.isLeft(parsePids(raw))).toBe(true))
})
