import { describe, expect, test } from "bun:test"
import { EXIT } from "../../src/cli/exitCodes.ts"
import { isForegroundLoop, signalExitCode } from "../../src/cli/program.ts"

describe("exit codes after a signal", () => {
  test("SIGTERM is a clean stop only for the foreground loops; otherwise 143, and SIGINT is always 130", () => {
    expect(isForegroundLoop(["bun", "claudy", "daemon", "run"])).toBe(true)
    expect(isForegroundLoop(["bun", "claudy", "pool", "run", "--set", "X=1"])).toBe(true)
    expect(isForegroundLoop(["bun", "claudy", "daemon", "start"])).toBe(false)
    expect(isForegroundLoop(["bun", "claudy", "backup"])).toBe(false)
    expect(isForegroundLoop(["bun", "claudy", "run"])).toBe(false) // `claudy run` is a spawn of ./run
    expect(signalExitCode("SIGTERM", true)).toBe(EXIT.ok)
    expect(signalExitCode("SIGTERM", false)).toBe(143)
    expect(signalExitCode("SIGINT", true)).toBe(130)
    expect(signalExitCode("SIGINT", false)).toBe(130)
  })
})
