import { describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { keepSettings, keptFile, keptUpdates, readKept } from "../../src/config/kept.ts"
import { resolveSettings } from "../../src/config/variables.ts"

const resolved = (input: Parameters<typeof resolveSettings>[0]) => {
  const r = resolveSettings(input)
  if (Either.isLeft(r)) throw r.left
  return r.right
}
const sourceOf = (r: ReturnType<typeof resolved>, name: string) => r.sources.find((s) => s.name === name)

describe("kept settings", () => {
  test("precedence: flag > environment > kept > default, each value naming its source", () => {
    const kept = { MIN_WARM_WORKERS: "3", WORKER_MEMORY: "8g", IDLE_TIMEOUT: "60" }
    const r = resolved({ env: { WORKER_MEMORY: "2g", IDLE_TIMEOUT: "90" }, flags: { IDLE_TIMEOUT: "120" }, kept })
    expect(r.settings.minWarmWorkers).toBe(3)
    expect(sourceOf(r, "MIN_WARM_WORKERS")?.source).toBe("kept")
    expect(r.settings.workerMemory.raw).toBe("2g")
    expect(sourceOf(r, "WORKER_MEMORY")?.source).toBe("env")
    expect(r.settings.idleTimeout).toBe(120)
    expect(sourceOf(r, "IDLE_TIMEOUT")?.source).toBe("flag")
    expect(sourceOf(r, "CHECK_INTERVAL")?.source).toBe("default")
  })

  test("an invalid kept value is refused naming its source", () => {
    const r = resolveSettings({ env: {}, kept: { WORKER_CPUS: "lots" } })
    if (Either.isRight(r)) throw new Error("expected a refusal")
    expect(r.left._tag).toBe("ConfigInvalid")
    expect((r.left as { source: string }).source).toBe("kept")
  })

  test("daemon start keeps only worker and pool settings that came from the environment or a flag", () => {
    const r = resolved({ env: { WORKER_MEMORY: "8g", CHROMADB_PORT: "8080", MIN_WARM_WORKERS: "3" }, flags: { ENABLE_POOL_MANAGER: "true" } })
    expect(keptUpdates(r.sources)).toEqual({ WORKER_MEMORY: "8g", MIN_WARM_WORKERS: "3", ENABLE_POOL_MANAGER: "true" })
  })

  test("keepSettings merges into the file; readKept reads it back; a damaged file is a clear error", async () => {
    const home = mkdtempSync(join(tmpdir(), "claudy-kept-"))
    try {
      expect(readKept(home)).toEqual(Either.right({}))
      expect(await Effect.runPromise(keepSettings(home, { WORKER_MEMORY: "8g" }, "daemon start"))).toEqual(["WORKER_MEMORY"])
      expect(await Effect.runPromise(keepSettings(home, { MIN_WARM_WORKERS: "3", WORKER_MEMORY: "8g" }, "daemon start"))).toEqual([
        "MIN_WARM_WORKERS"
      ])
      expect(readKept(home)).toEqual(Either.right({ WORKER_MEMORY: "8g", MIN_WARM_WORKERS: "3" }))
      writeFileSync(keptFile(home), "{ not json")
      const bad = readKept(home)
      if (Either.isRight(bad)) throw new Error("expected a refusal")
      expect(bad.left.message).toContain(keptFile(home))
      expect(bad.left.fix).toContain("delete the file")
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})
