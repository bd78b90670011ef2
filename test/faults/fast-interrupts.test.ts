/**
 * Signals on the real binary: SIGTERM/SIGINT end every command with 143/130 after its finalizers (only the foreground
 * loops `daemon run` and `pool run` end 0 on SIGTERM), and an interrupt at any point of a spawn, a warm start or a
 * backup leaves no container and no slot. The interrupt is sent when the engine's own event stream shows the step
 * (a container created, started), so each test hits the point it names.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { CLAUDY, docker, type Sandbox, sandboxWithParent, tracked, waitFor } from "../support/harness.ts"

const t = tracked()
const project = () => t.tempDir("claudy-interrupt-project-", 1000)
afterAll(t.cleanup)

const containers = async (b: Sandbox, role: string) =>
  (await docker("ps", "-aq", "--filter", `label=io.hal9000.instance=${b.instance}`, "--filter", `label=io.hal9000.role=${role}`)).stdout
    .split("\n")
    .filter(Boolean)

const slots = (b: Sandbox) => {
  const dir = join(b.home, "pool", "slots")
  return existsSync(dir) ? readdirSync(dir) : []
}

/** `claudy ARGS` as a child whose exit code and output the test reads after signalling it. */
const start = (b: Sandbox, args: ReadonlyArray<string>) =>
  Bun.spawn([CLAUDY, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...b.env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore"
  })

/**
 * Follow the engine's events for this sandbox's containers of `role` from now on; `next(action)` resolves when
 * `action` is seen (e.g. "create", "start"). `--since` replays from the moment of the call, so no event of the
 * command started next is missed while `docker events` subscribes.
 */
const onEvent = (b: Sandbox, role: string) => {
  const since = String(Math.floor(Date.now() / 1000))
  const events = Bun.spawn(
    ["docker", "events", "--since", since, "--filter", "type=container", "--filter", `label=io.hal9000.instance=${b.instance}`, "--filter", `label=io.hal9000.role=${role}`, "--format", "{{.Action}}"],
    { stdout: "pipe", stderr: "ignore" }
  )
  const seen: Array<string> = []
  const waiters: Array<{ action: string; resolve: () => void }> = []
  void (async () => {
    const decoder = new TextDecoder()
    let buf = ""
    for await (const chunk of events.stdout) {
      buf += decoder.decode(chunk)
      let i: number
      while ((i = buf.indexOf("\n")) >= 0) {
        const action = buf.slice(0, i).trim()
        buf = buf.slice(i + 1)
        seen.push(action)
        for (const w of waiters.filter((w) => w.action === action)) w.resolve()
      }
    }
  })()
  return {
    next: (action: string) =>
      seen.includes(action) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ action, resolve })),
    stop: () => events.kill()
  }
}

const output = async (p: ReturnType<typeof start>) => ({
  code: await p.exited,
  stdout: await new Response(p.stdout).text(),
  stderr: await new Response(p.stderr).text()
})

describe("signals end commands with 130/143 after their finalizers", () => {
  test("SIGTERM ends `sessions logs -f` with 143 and SIGINT with 130; `pool run` ends 0 on SIGTERM", async () => {
    const b = await sandboxWithParent(t)
    expect((await b.claudy(["--via-parent", "-d", "--name", "talker", project(), "--", "sh", "-c", "echo hello; sleep 600"])).code).toBe(0)
    for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
      const follow = start(b, ["sessions", "logs", "-f", "talker"])
      let out = ""
      const reader = follow.stdout.getReader()
      await waitFor("the followed log", async () => {
        const { value } = await reader.read()
        out += new TextDecoder().decode(value ?? new Uint8Array())
        return out.includes("hello") ? true : undefined
      })
      reader.releaseLock()
      follow.kill(signal)
      expect(await follow.exited).toBe(code)
    }
    const manager = start(b, ["pool", "run"])
    await waitFor("the pool manager's pid file", async () => (existsSync(join(b.home, "pool", "pool-manager.pid")) ? true : undefined))
    manager.kill("SIGTERM")
    expect(await manager.exited).toBe(0)
  })

  test("a backup killed mid-way is not reported as a success: 143, no helper left, no partial backup, the parent back", async () => {
    const b = await sandboxWithParent(t)
    const dest = t.tempDir("claudy-interrupted-backup-")
    const events = onEvent(b, "helper")
    try {
      const backup = start(b, ["backup", "--dest", dest])
      await events.next("create")
      backup.kill("SIGTERM")
      const r = await output(backup)
      expect(r.code).toBe(143)
      expect(r.stdout).not.toContain("Backup written")
      expect(r.stderr).toContain("Backup interrupted")
      expect(await containers(b, "helper")).toEqual([])
      expect(readdirSync(dest)).toEqual([])
      expect((await b.claudy(["daemon", "status"])).code).toBe(0)
    } finally {
      events.stop()
    }
  })
})
