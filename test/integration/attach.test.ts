/**
 * The interactive path of the compiled binary under a real terminal (tmux): raw TTY round trip, resize, Ctrl-C
 * reaching the session (not claudy), and the session's exit code becoming claudy's.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { existsSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CLAUDY, docker, run, type Sandbox, sandboxWithParent, tracked, waitFor } from "../support/harness.ts"

const t = tracked()
let b: Sandbox
let project: string
const unique = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`
const tmuxSession = `claudy-tty-${unique}`
const exitFile = join(tmpdir(), `claudy-tty-exit-${unique}`)

beforeAll(async () => {
  b = await sandboxWithParent(t)
  project = t.tempDir("claudy-tty-project-", 1000)
})
afterAll(async () => {
  await run(["tmux", "kill-session", "-t", tmuxSession])
  await t.cleanup()
  rmSync(exitFile, { force: true })
})

const pane = async () => (await run(["tmux", "capture-pane", "-p", "-t", tmuxSession])).stdout
const keys = (...k: Array<string>) => run(["tmux", "send-keys", "-t", tmuxSession, ...k])
/** The command lines of the processes in the attached worker, one per line (the image has no ps). */
const commandLines = async () =>
  (await docker("exec", `${b.instance}-worker-tty`, "sh", "-c", "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done"))
    .stdout.split("\n").map((l) => l.trim())
/** claudy passes each size to the engine as a request of its own: wait for it to land before asking the shell. */
const terminalSize = (rowsCols: string) =>
  waitFor(`the worker's terminal to be ${rowsCols}`, async () => {
    const size = await docker("exec", `${b.instance}-worker-tty`, "stty", "size", "-F", "/proc/1/fd/0")
    return size.stdout.trim() === rowsCols ? true : undefined
  })
const waitPane = (text: string | RegExp) =>
  waitFor(`pane to show ${text}`, async () => {
    const p = await pane()
    return (typeof text === "string" ? p.includes(text) : text.test(p)) ? p : undefined
  }, 30_000)

test("attached session in a real terminal: round trip, resize, Ctrl-C, exit code", async () => {
  const env = Object.entries(b.env).map(([k, v]) => `${k}=${v}`).join(" ")
  const cmd = `env ${env} ${CLAUDY} --via-parent --name tty ${project} -- bash --norc -i; echo "EXIT=$?" > ${exitFile}`
  expect((await run(["tmux", "new-session", "-d", "-s", tmuxSession, "-x", "120", "-y", "40", cmd])).code).toBe(0)
  await waitPane(/claude@|bash-\d/)

  await keys("echo round-$((6*7))", "Enter")
  await waitPane("round-42")

  await terminalSize("40 120")
  await keys("stty size", "Enter")
  await waitPane("40 120")
  await run(["tmux", "resize-window", "-t", tmuxSession, "-x", "100", "-y", "30"])
  await terminalSize("30 100")
  await keys("clear; stty size", "Enter")
  await waitPane("30 100")

  // Ctrl-C goes to the session's foreground process; claudy and the shell live on. It is sent once the sleep runs:
  // a Ctrl-C that reaches bash while it is still reading the line only discards the line.
  await keys("sleep 600", "Enter")
  await waitFor("the sleep to run in the worker", async () => ((await commandLines()).includes("sleep 600") ? true : undefined))
  await keys("C-c")
  await waitFor("the sleep to end on Ctrl-C", async () => ((await commandLines()).includes("sleep 600") ? undefined : true))
  await keys("echo after-$((40+2))-int", "Enter")
  await waitPane("after-42-int")
  expect(existsSync(exitFile)).toBe(false)

  await keys("exit 7", "Enter")
  const code = await waitFor("claudy to exit", async () => (existsSync(exitFile) ? readFileSync(exitFile, "utf8").trim() : undefined))
  expect(code).toBe("EXIT=7")
  const s = JSON.parse((await b.claudy(["sessions", "inspect", "tty", "--json"])).stdout)
  expect(s.status).toBe("exited")
  expect(s.exit_code).toBe(7)
})

test("sessions attach reaches a detached session; ctrl-p ctrl-q detaches and leaves it running", async () => {
  const spawned = await b.claudy(["--via-parent", "-d", "--name", "later", project, "--", "bash", "--norc", "-i"])
  expect(spawned.code).toBe(0)
  const env = Object.entries(b.env).map(([k, v]) => `${k}=${v}`).join(" ")
  const second = `${tmuxSession}-2`
  const file = `${exitFile}-2`
  const cmd = `env ${env} ${CLAUDY} sessions attach later; echo "EXIT=$?" > ${file}`
  try {
    expect((await run(["tmux", "new-session", "-d", "-s", second, "-x", "100", "-y", "30", cmd])).code).toBe(0)
    const show = async () => (await run(["tmux", "capture-pane", "-p", "-t", second])).stdout
    await run(["tmux", "send-keys", "-t", second, "echo again-$((5*5))", "Enter"])
    await waitFor("the attached shell to answer", async () => ((await show()).includes("again-25") ? true : undefined))
    await run(["tmux", "send-keys", "-t", second, "C-p", "C-q"])
    const code = await waitFor("claudy to detach", async () => (existsSync(file) ? readFileSync(file, "utf8").trim() : undefined))
    expect(code).toBe("EXIT=0")
    const s = JSON.parse((await b.claudy(["sessions", "inspect", "later", "--json"])).stdout)
    expect(s.status).toBe("running")
  } finally {
    await run(["tmux", "kill-session", "-t", second])
    rmSync(file, { force: true })
  }
})

test("a warm worker removed behind the pool's back: an interactive spawn goes cold with its exit code, no hang", async () => {
  expect((await b.claudy(["pool", "warm", project])).code).toBe(0)
  const warm = (await docker("ps", "-aq", "--filter", `label=io.hal9000.instance=${b.instance}`, "--filter", "label=io.hal9000.role=warm"))
    .stdout.split("\n").filter(Boolean)
  expect(warm).toHaveLength(1)
  await docker("rm", "-f", warm[0]!) // the pool's mirror still lists it as running
  const env = Object.entries(b.env).map(([k, v]) => `${k}=${v}`).join(" ")
  const third = `${tmuxSession}-3`
  const file = `${exitFile}-3`
  const cmd = `env ${env} ${CLAUDY} --via-parent --name afterdead ${project} -- sh -c 'exit 4'; echo "EXIT=$?" > ${file}`
  try {
    expect((await run(["tmux", "new-session", "-d", "-s", third, "-x", "100", "-y", "30", cmd])).code).toBe(0)
    const code = await waitFor("claudy to exit", async () => (existsSync(file) ? readFileSync(file, "utf8").trim() : undefined))
    expect(code).toBe("EXIT=4")
    const served = readFileSync(join(b.home, "pool", "spawns.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(served.at(-1)).toMatchObject({ session: "afterdead", served: "cold" })
  } finally {
    await run(["tmux", "kill-session", "-t", third])
    rmSync(file, { force: true })
  }
})

test("SIGTERM to claudy attached in a terminal: exit 143, the terminal back in its normal mode, the session runs on", async () => {
  const env = Object.entries(b.env).map(([k, v]) => `${k}=${v}`).join(" ")
  const fourth = `${tmuxSession}-4`
  const file = `${exitFile}-4`
  // after claudy: its exit code, then whether the terminal is in canonical mode with echo (what a shell needs)
  const cmd = `env ${env} ${CLAUDY} --via-parent --name termed ${project} -- sleep 600; echo "EXIT=$?" > ${file}.tmp; stty -a >> ${file}.tmp; mv ${file}.tmp ${file}`
  try {
    expect((await run(["tmux", "new-session", "-d", "-s", fourth, "-x", "100", "-y", "30", cmd])).code).toBe(0)
    await waitFor("the session's sleep to run", async () =>
      (await docker("top", `${b.instance}-worker-termed`)).stdout.includes("sleep 600") ? true : undefined)
    const pid = await waitFor("claudy's pid", async () => {
      // claudy itself (env execs it), not the shell tmux runs the whole command line in
      const found = (await run(["pgrep", "-f", "--", `^${CLAUDY} --via-parent --name termed`])).stdout.trim().split("\n").filter(Boolean)
      return found.length === 1 ? Number(found[0]) : undefined
    })
    process.kill(pid, "SIGTERM")
    const after = await waitFor("claudy to exit", async () => (existsSync(file) ? readFileSync(file, "utf8") : undefined))
    expect(after.split("\n")[0]).toBe("EXIT=143")
    expect(after).toMatch(/(^|\s)icanon(\s|$)/m)
    expect(after).toMatch(/(^|\s)echo(\s|$)/m)
    expect((await b.claudy(["sessions", "inspect", "termed", "--json"])).stdout).toContain('"running"')
  } finally {
    await run(["tmux", "kill-session", "-t", fourth])
    rmSync(file, { force: true })
  }
})
