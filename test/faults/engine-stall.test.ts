/**
 * Slow fault (make faults only): dockerd frozen with SIGSTOP under `daemon run`. Invariants: /health/ready answers
 * 503 within its probe's deadline (it does not hang with the engine), the watchdog keeps ticking, and everything is
 * ready again after SIGCONT. It stops only an engine that scripts/ensure-docker started (its pid in
 * /var/run/claudy-dockerd.pid), for a few seconds, and always continues it (other tests run on the same engine).
 */
import { afterAll, expect, test } from "bun:test"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { run, startSupervisor, tracked, waitFor } from "../support/harness.ts"

const ENGINE_PID_FILE = "/var/run/claudy-dockerd.pid"
const pid = existsSync(ENGINE_PID_FILE) ? Number(readFileSync(ENGINE_PID_FILE, "utf8").trim()) : NaN
/** Whatever happens (a timed-out test, an exception, the runner exiting), the engine is continued. */
const resume = () => {
  try {
    if (Number.isInteger(pid)) process.kill(pid, "SIGCONT")
  } catch {
    // not running
  }
}
process.on("exit", resume)

const t = tracked()
afterAll(async () => {
  resume()
  await t.cleanup()
})

const get = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(10_000) }).then(async (r) => ({ status: r.status, body: await r.json() }))

test("dockerd stopped with SIGSTOP: /health/ready answers 503, the watchdog keeps ticking, all recovers on SIGCONT", async () => {
  const running = (await run(["pgrep", "-x", "dockerd"])).stdout.trim().split("\n").map(Number)
  if (!running.includes(pid)) {
    throw new Error("this test stops dockerd and does so only for an engine scripts/ensure-docker started; start yours with it")
  }
  const { b, port, proc } = await startSupervisor(t)
  const log = join(b.home, "logs", "supervisor.log")
  const stalledTicks = () => readFileSync(log, "utf8").split("\n").filter((l) => l.includes("engine not answering")).length
  const ready = `http://127.0.0.1:${port}/health/ready`
  try {
    expect((await get(ready)).status).toBe(200)
    process.kill(pid, "SIGSTOP")
    try {
      // The probe's deadline is 2 s; the 10 s abort above is only the test's bound for an answer that never comes.
      const stalled = await get(ready)
      expect(stalled.status).toBe(503)
      expect(stalled.body.components.parent.state).toBe("unknown")
      expect(stalled.body.components.parent.error).toContain("did not answer")
      expect((await get(`http://127.0.0.1:${port}/health/live`)).status).toBe(200)
      await waitFor("two watchdog ticks while the engine is stopped", async () => (stalledTicks() >= 2 ? true : undefined), 20_000)
    } finally {
      resume()
    }
    await waitFor("/health/ready 200 again", async () => ((await get(ready).catch(() => undefined))?.status === 200 ? true : undefined), 60_000)
    // the watchdog did not restart the parent while it could not see it
    expect(readFileSync(log, "utf8")).not.toContain("restarting the parent")
  } finally {
    proc.kill("SIGTERM")
    expect(await proc.exited).toBe(0)
  }
})
