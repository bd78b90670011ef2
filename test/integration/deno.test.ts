/** The same source under Deno (npm `deno`, src/main.node.ts) answers exactly as the compiled Bun binary. */
import { afterAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { CLAUDY, ROOT, run, tracked } from "../support/harness.ts"

const DENO = join(ROOT, "scripts/claudy-deno")
// each test makes its own sandbox: any one of them runs alone (bun test -t) or in any order
const t = tracked()
afterAll(t.cleanup)

/** Fields that legitimately differ between two calls a moment apart. */
const stable = (json: string) => {
  const s = JSON.parse(json)
  delete s.uptimeSeconds
  delete s.chromadb.heartbeatMs
  return s
}

describe("deno", () => {
  test("--version matches the binary", async () => {
    const [bin, deno] = await Promise.all([run([CLAUDY, "--version"]), run([DENO, "--version"])])
    expect(deno.stderr).toBe("")
    expect(deno.code).toBe(0)
    expect(deno.stdout).toBe(bin.stdout)
  })

  test("config matches the binary (text and --json, with env and flags)", async () => {
    const box = await t.box({ WORKER_MEMORY: "8g" })
    for (const args of [["config"], ["config", "--json", "--set", "CHROMADB_PORT=8181"]]) {
      const [bin, deno] = await Promise.all([run([CLAUDY, ...args], box.env), run([DENO, ...args], box.env)])
      expect(deno.code).toBe(0)
      expect(deno.stdout).toBe(bin.stdout)
    }
    const bad = await run([DENO, "config"], { CHROMADB_PORT: "abc" })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe((await run([CLAUDY, "config"], { CHROMADB_PORT: "abc" })).stderr)
  })

  test("daemon status matches the binary against the real engine, absent and running", async () => {
    const box = await t.box()
    const absentBin = await run([CLAUDY, "daemon", "status", "--json"], box.env)
    const absentDeno = await run([DENO, "daemon", "status", "--json"], box.env)
    expect(absentBin.code).toBe(3)
    expect(absentDeno.code).toBe(3)
    expect(stable(absentDeno.stdout)).toEqual(stable(absentBin.stdout))

    expect((await run([CLAUDY, "daemon", "start"], box.env)).code).toBe(0)
    const bin = await run([CLAUDY, "daemon", "status", "--json"], box.env)
    const deno = await run([DENO, "daemon", "status", "--json"], box.env)
    expect(deno.code).toBe(0)
    expect(bin.code).toBe(0)
    const d = stable(deno.stdout)
    expect(d.healthy).toBe(true)
    expect(d).toEqual(stable(bin.stdout))
  })
})
