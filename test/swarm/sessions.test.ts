/**
 * Sessions on any node of the lab (issue 14, item 6), against the compiled binary: list and inspect show the node,
 * logs come through the manager, stop and rm work wherever the session runs, attach reaches its TTY (and resizes
 * it) through that node's engine, and exit codes and OOM kills are reported as on one host.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { claudyLine, tmux, waitFor } from "../support/harness.ts"
import { dockerAt, type SwarmSandbox, swarmSandbox } from "../support/swarm.ts"

let b: SwarmSandbox
let projects: string
const unique = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`
const terms: Array<ReturnType<typeof tmux>> = []
const exitFile = join(tmpdir(), `claudy-swarm-attach-exit-${unique}`)

const project = (name: string) => {
  const dir = join(projects, name)
  mkdirSync(dir, { recursive: true })
  chownSync(dir, 1000, 1000)
  return dir
}
const spawnDetached = async (args: ReadonlyArray<string>) => {
  const r = await b.claudy(["-d", "--new", ...args])
  expect(r.code).toBe(0)
  return r.stdout.trim()
}
const inspectJson = async (name: string) => JSON.parse((await b.claudy(["sessions", "inspect", "--json", name])).stdout)
const statusIs = (name: string, status: string) =>
  waitFor(`${name} to be ${status}`, async () => {
    const s = await inspectJson(name)
    return s.status === status ? s : undefined
  }, 60_000)

/** claudy run in a tmux pane writes its exit code to `file`; this waits for it. */
const exitCodeIn = (file: string) => waitFor("claudy to exit", async () => (existsSync(file) ? readFileSync(file, "utf8").trim() : undefined))
/** `claudy ARGS` in the pane, its exit code into `file` (the pane stays open after it). */
const startInPane = (t: ReturnType<typeof tmux>, args: string, file: string) => t.start(`${claudyLine(b, args)}; echo "EXIT=$?" > ${file}; sleep 600`)
/** Type `line` until the pane shows `expected` (the first keys may come before the terminal is attached). */
const answered = (t: ReturnType<typeof tmux>, line: string, expected: string) =>
  waitFor(`the pane to show ${expected}`, async () => {
    await t.keys(line, "Enter")
    return (await t.pane()).includes(expected) ? true : undefined
  })

beforeAll(async () => {
  b = await swarmSandbox()
  projects = join(b.lab.projectsRoot, b.instance)
  mkdirSync(projects, { recursive: true })
})
afterAll(async () => {
  for (const x of terms) await x.kill()
  rmSync(exitFile, { force: true })
  await b?.cleanup()
  if (projects) rmSync(projects, { recursive: true, force: true })
})

test("list and inspect show each session's node; logs come through the manager; exit codes as on one host", async () => {
  const running = await spawnDetached(["--node", "n2", project("one"), "--", "sh", "-c", "echo out-line; echo err-line >&2; sleep 600"])
  const ended = await spawnDetached(["--node", "n3", project("two"), "--", "sh", "-c", "echo bye; exit 3"])
  const r = await statusIs(running, "running")
  expect(r.node).toBe("n2")
  const e = await statusIs(ended, "exited")
  expect(e.node).toBe("n3")
  expect(e.exit_code).toBe(3)

  const table = (await b.claudy(["sessions", "list"])).stdout
  expect(table).toMatch(/NAME\s+STATUS\s+NODE\s+PROJECT/)
  expect(table).toMatch(new RegExp(`${running}\\s+running\\s+n2\\s`))
  expect(table).toMatch(new RegExp(`${ended}\\s+exited \\(3\\)\\s+n3\\s`))
  const shown = (await b.claudy(["sessions", "inspect", running])).stdout
  expect(shown).toMatch(/Node:\s+n2/)
  expect(shown).toMatch(new RegExp(`Network:\\s+bridge`))

  const logs = await waitFor("the running session's output", async () => {
    const out = (await b.claudy(["sessions", "logs", running])).stdout
    return out.includes("out-line") && out.includes("err-line") ? out : undefined
  })
  expect(logs.indexOf("out-line")).toBeGreaterThanOrEqual(0)
  // -f on an ended session prints its output and returns
  const followed = await b.claudy(["sessions", "logs", "-f", ended])
  expect(followed.code).toBe(0)
  expect(followed.stdout).toContain("bye")
})

test("stop and rm reach a session on any node; a removed one is gone", async () => {
  const name = await spawnDetached(["--node", "n3", project("stop"), "--", "sleep", "600"])
  await statusIs(name, "running")
  const stopped = await b.claudy(["sessions", "stop", name])
  expect(stopped.code).toBe(0)
  const s = await inspectJson(name)
  expect(s.status).toBe("exited")
  expect(s.exit_code).not.toBeNull()
  // never restarted by the swarm
  expect((await inspectJson(name)).status).toBe("exited")
  const rm = await b.claudy(["sessions", "rm", name])
  expect(rm.code).toBe(0)
  const gone = await b.claudy(["sessions", "inspect", name])
  expect(gone.code).not.toBe(0)
  expect(gone.stderr).toContain(`No session named '${name}'`)
  const left = (await dockerAt(b.lab.manager, "service", "ls", "-q", "--filter", `label=io.hal9000.session=${name}`)).stdout.trim()
  expect(left).toBe("")
})

test("a session killed by its memory limit is reported oom-killed with exit code 137 and the hint", async () => {
  const name = await spawnDetached(["--memory", "32m", project("oom"), "--", "python3", "-c", "x = b'x' * (512 * 1024 * 1024)"])
  const s = await statusIs(name, "oom-killed")
  expect(s.exit_code).toBe(137)
  expect(s.hint).toContain("killed by its memory limit (32m)")
  const listed = (await b.claudy(["sessions", "list"])).stdout
  expect(listed).toMatch(new RegExp(`${name}\\s+oom-killed`))
})

test("attach: the session's TTY through its node's engine, resized with the terminal; detach keeps it; exit code is claudy's", async () => {
  const name = await spawnDetached(["--node", "n2", project("tty"), "--", "bash", "--norc", "-i"])
  await statusIs(name, "running")
  const t = tmux(`claudy-swarm-attach-${unique}`)
  terms.push(t)
  await startInPane(t, `sessions attach ${name}`, exitFile)
  await answered(t, "echo ans-$((40+2)); stty size", "ans-42")
  await t.waitPane("40 120")
  await t.resize(100, 30)
  await answered(t, "clear; stty size", "30 100")
  await t.keys("C-p", "C-q")
  expect(await exitCodeIn(exitFile)).toBe("EXIT=0")
  expect((await inspectJson(name)).status).toBe("running")

  rmSync(exitFile, { force: true })
  await t.kill()
  await startInPane(t, `sessions attach ${name}`, exitFile)
  await answered(t, "echo again-$((1+1))", "again-2")
  await t.keys("exit 4", "Enter")
  expect(await exitCodeIn(exitFile)).toBe("EXIT=4")
  const s = await statusIs(name, "exited")
  expect(s.exit_code).toBe(4)
})

test("shell: a shell in a session's worker on another node, through that node's engine; its exit code is claudy's", async () => {
  const name = await spawnDetached(["--node", "n3", project("shell"), "--", "sleep", "600"])
  await statusIs(name, "running")
  const shellExit = `${exitFile}-shell`
  const t = tmux(`claudy-swarm-shell-${unique}`)
  terms.push(t)
  await startInPane(t, `sessions shell ${name}`, shellExit)
  await answered(t, "echo in-$(id -u)", "in-1000")
  await t.keys("exit 3", "Enter")
  expect(await exitCodeIn(shellExit)).toBe("EXIT=3")
  rmSync(shellExit, { force: true })
  expect((await inspectJson(name)).status).toBe("running")
})
