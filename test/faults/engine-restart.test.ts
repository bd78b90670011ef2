/**
 * Slow fault (make faults only): dockerd restarted under claudy. Invariants: commands fail clearly while the engine is
 * down (exit 5, the real address), then recover; the parent comes back; no record is lost.
 * It restarts only an engine that scripts/ensure-docker started (its pid in /var/run/claudy-dockerd.pid).
 */
import { afterAll, expect, test } from "bun:test"
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CLAUDY, freePort, ROOT, run, sandbox, type Sandbox, waitFor } from "../support/harness.ts"

let b: Sandbox | undefined
const project = mkdtempSync(join(tmpdir(), "claudy-engine-fault-"))
chownSync(project, 1000, 1000)
afterAll(async () => {
  await b?.cleanup()
  rmSync(project, { recursive: true, force: true })
})

test("dockerd restarted under claudy: clear failure while down, recovery after", async () => {
  const pidFile = "/var/run/claudy-dockerd.pid"
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : NaN
  const running = (await run(["pgrep", "-x", "dockerd"])).stdout.trim().split("\n").map(Number)
  if (!running.includes(pid)) {
    throw new Error("this test restarts dockerd and does so only for an engine scripts/ensure-docker started; start yours with it")
  }
  const hport = await freePort()
  b = await sandbox({ HAL9000_HTTP_ADDR: `127.0.0.1:${hport}` })
  expect((await b.claudy(["daemon", "start"])).code).toBe(0)
  expect((await b.claudy(["--via-parent", "-d", "--name", "survives", project, "--", "sleep", "600"])).code).toBe(0)
  // a supervisor follows the engine's events across the restart (its poll interval an hour: only events count)
  const sup = Bun.spawn([CLAUDY, "daemon", "run"], { env: { ...process.env, ...b.env, HAL9000_WATCHDOG_INTERVAL: "3600" }, stdout: "ignore", stderr: "ignore" })
  const supLog = join(b.home, "logs", "supervisor.log")
  const connections = () => (existsSync(supLog) ? readFileSync(supLog, "utf8").split("engine events connected").length - 1 : 0)
  await waitFor("the supervisor's event stream", async () => (connections() >= 1 ? true : undefined), 60_000)

  process.kill(pid, "SIGTERM")
  await waitFor("dockerd to stop", async () => ((await run(["docker", "info"])).code !== 0 ? true : undefined), 60_000)
  const exited = () => waitFor("the old dockerd to exit", async () => ((await run(["pgrep", "-x", "dockerd"])).code !== 0 ? true : undefined), 60_000)
  const down = await b.claudy(["daemon", "status"])
  expect(down.code).toBe(5)
  expect(down.stderr).toContain("Cannot connect to the Docker daemon at unix:///var/run/docker.sock")
  const listDown = await b.claudy(["sessions", "list"])
  expect(listDown.code).toBe(5)

  await exited()
  expect((await run([join(ROOT, "scripts/ensure-docker")])).code).toBe(0)
  // the parent's restart policy brings it back with the engine
  await waitFor("the parent healthy again", async () => ((await b!.claudy(["daemon", "status"])).code === 0 ? true : undefined), 120_000)
  // the event stream reconnected to the new engine; a docker kill is then acted on at once
  await waitFor("the event stream reconnected", async () => (connections() >= 2 ? true : undefined), 60_000)
  await run(["docker", "kill", `${b.instance}-parent`])
  await waitFor("the supervisor to restart the killed parent", async () => ((await b!.claudy(["daemon", "status"])).code === 0 ? true : undefined), 60_000)
  expect(readFileSync(supLog, "utf8")).toContain("parent die (engine event)")
  sup.kill("SIGTERM")
  expect(await sup.exited).toBe(0)
  const sessions = JSON.parse((await b.claudy(["sessions", "list", "--json"])).stdout)
  expect(sessions.map((s: any) => s.name)).toContain("survives")
  expect(existsSync(join(b.home, "sessions", "survives.json"))).toBe(true)
})
