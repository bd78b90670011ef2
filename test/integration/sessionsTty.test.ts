/**
 * The interactive parts of sessions in a real terminal (tmux) against the compiled binary: running claudy again on a
 * project attaches to its running session and says so; `sessions shell` with a TTY and resize; `claudy login` runs
 * Claude Code's own login in a worker with the Claude home mounted and no key.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { existsSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { claudyLine, docker, inspect, type Sandbox, sandboxWithParent, tmux, tracked, waitFor } from "../support/harness.ts"

const t = tracked()
let b: Sandbox
const unique = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`
const terms: Array<ReturnType<typeof tmux>> = []
const term = (what: string) => {
  const x = tmux(`claudy-sess-${what}-${unique}`)
  terms.push(x)
  return x
}
const exitFile = (what: string) => join(tmpdir(), `claudy-sess-exit-${what}-${unique}`)

beforeAll(async () => {
  b = await sandboxWithParent(t)
})
afterAll(async () => {
  for (const x of terms) await x.kill()
  await t.cleanup()
  for (const w of ["first", "shell"]) rmSync(exitFile(w), { force: true })
})

const exitCode = (what: string) =>
  waitFor(`claudy (${what}) to exit`, async () => (existsSync(exitFile(what)) ? readFileSync(exitFile(what), "utf8").trim() : undefined))
/** The command lines of a container's processes (the worker image has no ps). */
const commandLines = async (container: string) =>
  (await docker("exec", container, "sh", "-c", "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done")).stdout.split("\n").map((l) => l.trim())

test("claudy on a project whose session runs attaches to it and says so; detaching leaves it running", async () => {
  const project = t.tempDir("claudy-sess-tty-", 1000)
  const first = term("first")
  await first.start(`${claudyLine(b, `--via-parent ${project} -- bash --norc -i`)}; echo "EXIT=$?" > ${exitFile("first")}`)
  await first.waitPane(/bash-\d/)
  const session = (await b.claudy(["sessions", "list", "--json"])).stdout
  const name = JSON.parse(session).find((s: any) => s.project_dir === project).name as string

  const second = term("second")
  // the pane stays open after claudy returns, so its last words can be read
  await second.start(`${claudyLine(b, `--via-parent ${project}`)}; sleep 600`)
  await second.waitPane(`session ${name} already runs for ${project}: attaching`)
  await second.keys("echo second-$((20+22))", "Enter")
  await second.waitPane("second-42")
  await first.waitPane("second-42") // the same terminal: the same session
  await second.keys("C-p", "C-q")
  await second.waitPane(`detached from session ${name}`)
  expect((await inspect(`${b.instance}-worker-${name}`)).State.Running).toBe(true)

  await first.keys("exit 4", "Enter")
  expect(await exitCode("first")).toBe("EXIT=4")
})

test("sessions shell: a shell in the running worker with a TTY that follows resizes; its exit code is claudy's", async () => {
  const project = t.tempDir("claudy-sess-shell-", 1000)
  const r = await b.claudy(["--via-parent", "-d", project, "--", "sleep", "600"])
  const name = r.stdout.trim()
  const shell = term("shell")
  await shell.start(`${claudyLine(b, `sessions shell ${name}`)}; echo "EXIT=$?" > ${exitFile("shell")}`)
  await shell.waitPane(/claude@|\$ $/m)
  await shell.keys("stty size; id -un", "Enter")
  await shell.waitPane(/40 120\s+claude/)
  await shell.resize(100, 30)
  await waitFor("the shell's terminal to be 30 100", async () => {
    await shell.keys("clear; stty size", "Enter")
    return (await shell.pane()).includes("30 100") ? true : undefined
  })
  await shell.keys("exit 3", "Enter")
  expect(await exitCode("shell")).toBe("EXIT=3")
  expect((await inspect(`${b.instance}-worker-${name}`)).State.Running).toBe(true)
})

test("claudy login runs Claude Code's own login in a worker with the Claude home and no key, and leaves nothing behind", async () => {
  const login = term("login")
  await login.start(claudyLine(b, "login"))
  await login.waitPane("Logging in with Claude Code in a worker")
  const container = await waitFor("the login worker", async () => {
    const ids = (await docker("ps", "-q", "--filter", `label=io.hal9000.instance=${b.instance}`, "--filter", `name=${b.instance}-worker-login-`)).stdout.trim()
    return ids === "" ? undefined : ids.split("\n")[0]!
  })
  await waitFor("claude auth login to run", async () => ((await commandLines(container)).some((l) => /\bclaude auth login\b/.test(l)) ? true : undefined))
  await login.waitPane("claude.ai/oauth/authorize") // Claude Code's own login screen, in claudy's terminal
  const c = await inspect(container)
  expect(c.Name).toMatch(new RegExp(`^/${b.instance}-worker-login-[0-9a-f]{8}$`))
  expect(c.Mounts.find((m: any) => m.Destination === "/home/claude/.claude")?.Name).toBe(`${b.instance}-claude-home`)
  const slot = c.Config.Labels["io.hal9000.slot"]
  expect(existsSync(join(b.home, "pool", "slots", slot, "anthropic_api_key"))).toBe(false)

  // closing the terminal ends the login and removes its worker
  await login.kill()
  await waitFor("the login worker to be removed", async () => ((await inspect(container)) === undefined ? true : undefined))
})
