/** The verbs users reach for: daemon logs -f, backup --dest into a new directory, sessions logs --since/--timestamps. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { CLAUDY, type Sandbox, sandboxWithParent, tracked, waitFor } from "../support/harness.ts"

const t = tracked()
let b: Sandbox

beforeAll(async () => {
  b = await sandboxWithParent(t)
})
afterAll(t.cleanup)

describe("daemon logs -f", () => {
  test("follows the parent's log and ends cleanly on Ctrl-C (exit 130, nothing on stderr)", async () => {
    const proc = Bun.spawn([CLAUDY, "daemon", "logs", "-f", "--tail", "5"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...b.env },
      stdout: "pipe",
      stderr: "pipe"
    })
    let out = ""
    const reader = (async () => {
      const stream = proc.stdout.getReader()
      for (let r = await stream.read(); !r.done; r = await stream.read()) out += new TextDecoder().decode(r.value)
    })()
    await waitFor("the parent's log on stdout", async () => (out.trim() !== "" ? true : undefined))
    // still following: the process has not ended after printing the tail
    expect(proc.exitCode).toBeNull()
    proc.kill("SIGINT")
    expect(await proc.exited).toBe(130)
    await reader
    expect(await new Response(proc.stderr).text()).toBe("")
  })
})

describe("backup --dest", () => {
  test("creates a missing directory, private (0700), and writes the backup into it", async () => {
    const dest = join(t.tempDir("claudy-backup-dest-"), "new", "backups")
    const r = await b.claudy(["backup", "--dest", dest])
    expect(r.code).toBe(0)
    expect(statSync(dest).mode & 0o777).toBe(0o700)
    expect(statSync(join(dest, "..")).mode & 0o777).toBe(0o700)
    expect(readdirSync(dest)).toHaveLength(1)
    expect(r.stdout).toContain(`Backup written to ${dest}/`)
  })
})

describe("sessions logs --since / --timestamps", () => {
  test("--timestamps prefixes each line with its time; --since leaves out what came before", async () => {
    const project = t.tempDir("claudy-verbs-project-", 1000)
    const script = "echo early; while [ ! -f /workspace/go ]; do sleep 0.1; done; echo late; sleep 300"
    const spawn = await b.claudy(["--via-parent", "--detach", "--name", "stamped", project, "--", "sh", "-c", script])
    expect(spawn.code).toBe(0)
    const logs = async (...flags: Array<string>) => (await b.claudy(["sessions", "logs", "stamped", ...flags])).stdout
    await waitFor("the first line", async () => ((await logs()).includes("early") ? true : undefined))
    writeFileSync(join(project, "go"), "")
    const stamped = await waitFor("the second line", async () => {
      const text = await logs("--timestamps")
      return text.includes("late") ? text : undefined
    })
    const lines = stamped.trim().split("\n")
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (early|late)\r?$/)
    const lateAt = lines.find((l) => l.includes("late"))!.split(" ")[0]!
    expect((await logs("--since", lateAt)).trim()).toBe("late")
    expect((await logs("--since", "1h")).trim().split(/\r?\n/)).toEqual(["early", "late"])
    const bad = await b.claudy(["sessions", "logs", "stamped", "--since", "yesterday"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("--since")
    expect(existsSync(join(project, "go"))).toBe(true)
  })
})
