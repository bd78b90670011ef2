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
  await t.start(`${claudyLine(b, `sessions attach ${name}`)}; echo "EXIT=$?" > ${exitFile}; sleep 600`)
  await waitFor("the session's shell to answer", async () => {
    await t.keys("echo ans-$((40+2)); stty size", "Enter")
    return (await t.pane()).includes("ans-42") ? true : undefined
  })
  await t.waitPane("40 120")
  await t.resize(100, 30)
  await waitFor("the session's terminal to be 30 100", async () => {
    await t.keys("clear; stty size", "Enter")
    return (await t.pane()).includes("30 100") ? true : undefined
  })
  await t.keys("C-p", "C-q")
  await waitFor("claudy to detach", async () => (existsSync(exitFile) ? readFileSync(exitFile, "utf8").trim() : undefined))
  expect(readFileSync(exitFile, "utf8").trim()).toBe("EXIT=0")
  expect((await inspectJson(name)).status).toBe("running")

  rmSync(exitFile, { force: true })
  await t.kill()
  await t.start(`${claudyLine(b, `sessions attach ${name}`)}; echo "EXIT=$?" > ${exitFile}; sleep 600`)
  await waitFor("the session's shell to answer again", async () => {
    await t.keys("echo again-$((1+1))", "Enter")
    return (await t.pane()).includes("again-2") ? true : undefined
  })
  await t.keys("exit 4", "Enter")
  expect(await waitFor("claudy to exit", async () => (existsSync(exitFile) ? readFileSync(exitFile, "utf8").trim() : undefined))).toBe("EXIT=4")
  const s = await statusIs(name, "exited")
  expect(s.exit_code).toBe(4)
})

test("shell: a shell in a session's worker on another node, through that node's engine; its exit code is claudy's", async () => {
  const name = await spawnDetached(["--node", "n3", project("shell"), "--", "sleep", "600"])
  await statusIs(name, "running")
  const shellExit = `${exitFile}-shell`
  const t = tmux(`claudy-swarm-shell-${unique}`)
  terms.push(t)
  await t.start(`${claudyLine(b, `sessions shell ${name}`)}; echo "EXIT=$?" > ${shellExit}; sleep 600`)
  await waitFor("the shell to answer", async () => {
    await t.keys("echo in-$(id -u)-$(cat /proc/1/cmdline | tr '\\0' ' ' | cut -c1-9)", "Enter")
    return (await t.pane()).includes("in-1000-") ? true : undefined
  })
  await t.keys("exit 3", "Enter")
  expect(await waitFor("claudy to exit", async () => (existsSync(shellExit) ? readFileSync(shellExit, "utf8").trim() : undefined))).toBe("EXIT=3")
  rmSync(shellExit, { force: true })
  expect((await inspectJson(name)).status).toBe("running")
})
