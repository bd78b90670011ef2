/** Workers on the real engine, next to a real parent: network, hardening, secrets, limits, records, attach. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Either } from "effect"
import { decodeRecord } from "../../src/sessions/record.ts"
import { CLAUDY, chroma, docker, inspect, type Sandbox, sandbox, sandboxWithParent, tracked, waitFor } from "../support/harness.ts"

const t = tracked()
let b: Sandbox
let project: string
let parentId: string

beforeAll(async () => {
  b = await sandboxWithParent(t)
  // a project owned by a normal user (uid 1000, the image's own user), not world-readable
  project = t.tempDir("claudy-project-", 1000)
  writeFileSync(join(project, "hello.txt"), "from the host\n")
  chownSync(join(project, "hello.txt"), 1000, 1000)
  parentId = (await inspect(`${b.instance}-parent`)).Id
})
afterAll(t.cleanup)

const spawnDetached = async (args: Array<string>, command: Array<string>, env: Record<string, string> = {}) => {
  const r = await b.claudy(["--via-parent", "--detach", ...args, project, "--", ...command], env)
  if (r.code !== 0) throw new Error(`spawn failed (${r.code}): ${r.stderr}`)
  return r.stdout.trim()
}
const sessionJson = async (name: string) => {
  const r = await b.claudy(["sessions", "inspect", name, "--json"])
  return r.code === 0 ? JSON.parse(r.stdout) : undefined
}
const waitStatus = (name: string, status: string, ms = 60_000) =>
  waitFor(`session ${name} to be ${status}`, async () => {
    const s = await sessionJson(name)
    return s?.status === status ? s : undefined
  }, ms)
const logsOf = async (name: string) => (await b.claudy(["sessions", "logs", name])).stdout
const waitLog = (name: string, text: string) =>
  waitFor(`'${text}' in ${name}'s log`, async () => ((await logsOf(name)).includes(text) ? true : undefined))
const workerCount = async () =>
  (await docker("ps", "-aq", "--filter", `label=io.hal9000.instance=${b.instance}`, "--filter", "label=io.hal9000.role=worker")).stdout
    .split("\n")
    .filter(Boolean).length

describe("via-parent workers", () => {
  test("reach ChromaDB at localhost:CHROMADB_PORT and write to it", async () => {
    const name = await spawnDetached(["--name", "net"], [
      "sh",
      "-c",
      `curl -s -o /dev/null -w 'heartbeat=%{http_code}\\n' localhost:${b.port}/api/v2/heartbeat; ` +
        `curl -s -X POST -H 'content-type: application/json' -d '{"name":"from-worker"}' ` +
        `localhost:${b.port}/api/v2/tenants/default_tenant/databases/default_database/collections >/dev/null && echo wrote; sleep 300`
    ])
    expect(name).toBe("net")
    await waitLog("net", "wrote")
    expect(await logsOf("net")).toContain("heartbeat=200")
    expect(await chroma(b.port).collectionId("from-worker")).toBeString()
  })

  test("are hardened and labelled, visibly in docker inspect", async () => {
    await spawnDetached(["--name", "hard", "--memory", "512m", "--cpus", "1.5", "--pids-limit", "50"], ["sleep", "300"])
    const c = await inspect(`${b.instance}-worker-hard`)
    expect(c.HostConfig.NetworkMode).toBe(`container:${parentId}`)
    expect(c.HostConfig.Memory).toBe(512 * 1024 * 1024)
    expect(c.HostConfig.NanoCpus).toBe(1.5e9)
    expect(c.HostConfig.PidsLimit).toBe(50)
    expect(c.HostConfig.CapDrop).toEqual(["ALL"])
    expect(c.HostConfig.CapAdd).toBeNull()
    expect(c.HostConfig.SecurityOpt).toEqual(["no-new-privileges"])
    expect(c.HostConfig.Privileged).toBe(false)
    expect(c.Config.User).toBe("1000:1000")
    const mounts = c.Mounts.map((m: any) => `${m.Type}:${m.Type === "volume" ? m.Name : m.Source}:${m.Destination}:${m.RW ? "rw" : "ro"}`)
    const slot = c.Config.Labels["io.hal9000.slot"]
    expect(mounts.sort()).toEqual(
      [
        `bind:${b.home}/pool/slots/${slot}:/run/claudy:ro`,
        `bind:${project}:/workspace:rw`,
        // the shared memory (docs/MEMORY.md): never ChromaDB's own volume, which only the parent mounts
        `volume:${b.instance}-memorybank:/data/membank:rw`,
        `volume:${b.instance}-plugins:/data/plugins:ro`,
        `bind:${CLAUDY}:/usr/local/bin/claudy:ro`
      ].sort()
    )
    expect(c.Mounts.find((m: any) => m.Destination === "/run/claudy").RW).toBe(false)
    expect(JSON.stringify(c)).not.toContain("docker.sock")
    expect(c.Config.Labels).toMatchObject({
      "io.hal9000.managed": "true",
      "io.hal9000.role": "worker",
      "io.hal9000.session": "hard",
      "io.hal9000.instance": b.instance,
      "io.hal9000.project": project
    })
    expect(c.Config.Labels["io.hal9000.home"]).toMatch(/^[0-9a-f]{12}$/)
    expect(c.Config.Labels["io.hal9000.spec"]).toMatch(/^[0-9a-f]{16}$/)
    const whoami = await docker("exec", `${b.instance}-worker-hard`, "sh", "-c", "id -u; cat /workspace/hello.txt; grep CapEff /proc/self/status")
    expect(whoami.stdout).toContain("1000\nfrom the host\nCapEff:\t0000000000000000")
  })

  test("--no-limits has none and is recorded as such", async () => {
    const r = await b.claudy(["--via-parent", "-d", "--name", "free", "--no-limits", project, "--", "sleep", "300"])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain("--no-limits")
    const c = await inspect(`${b.instance}-worker-free`)
    expect(c.HostConfig.Memory).toBe(0)
    expect(c.HostConfig.NanoCpus).toBe(0)
    expect([0, -1, null]).toContain(c.HostConfig.PidsLimit)
    const s = await sessionJson("free")
    expect(s.resource_limits).toEqual({ enabled: false, memory: null, cpus: null, pids_limit: null })
  })

  test("the API key arrives as a file readable by the worker user only, never in docker inspect", async () => {
    const key = `sk-ant-test-${Date.now()}`
    await spawnDetached(["--name", "secret"], ["sh", "-c", 'stat -c "%a %U" "$ANTHROPIC_API_KEY_FILE"; echo "len=${#ANTHROPIC_API_KEY}"; sleep 300'], {
      ANTHROPIC_API_KEY: key
    })
    await waitLog("secret", "len=")
    const log = await logsOf("secret")
    expect(log).toContain("400 claude")
    expect(log).toContain(`len=${key.length}`)
    expect((await docker("inspect", `${b.instance}-worker-secret`)).stdout).not.toContain(key)
    const noKey = await b.claudy(["--via-parent", "-d", "--name", "nokey", project, "--", "true"])
    expect(noKey.code).toBe(0)
    expect(noKey.stderr).toContain("ANTHROPIC_API_KEY is not set")
  })

  test("a memory-limit kill shows oom-killed with the hint to respawn with more", async () => {
    await spawnDetached(["--name", "oom", "--memory", "32m"], ["sh", "-c", "head -c 400m /dev/zero | tail"])
    const s = await waitStatus("oom", "oom-killed")
    expect(s.hint).toContain("--memory")
    const text = await b.claudy(["sessions", "inspect", "oom"])
    expect(text.stdout).toContain("oom-killed")
    expect(text.stdout).toContain("Hint: killed by its memory limit (32m)")
  })

  test("forks refused by --pids-limit show pids-limit-reached", async () => {
    // bash keeps running when a fork is refused (dash would exit), so the cgroup stays to be read
    await spawnDetached(["--name", "forks", "--pids-limit", "20"], [
      "bash",
      "-c",
      "for i in $(seq 1 40); do sleep 300 & done 2>/dev/null; sleep 300"
    ])
    const s = await waitStatus("forks", "pids-limit-reached")
    expect(s.hint).toContain("--pids-limit")
  })

  test("10 concurrent detached spawns give 10 distinct sessions with valid records", async () => {
    const before = await workerCount()
    const results = await Promise.all(
      Array.from({ length: 10 }, () => b.claudy(["--via-parent", "--detach", project, "--", "sleep", "300"]))
    )
    expect(results.map((r) => r.code)).toEqual(Array(10).fill(0))
    const names = results.map((r) => r.stdout.trim())
    expect(new Set(names).size).toBe(10)
    expect(await workerCount()).toBe(before + 10)
    for (const n of names) {
      const raw = JSON.parse(readFileSync(join(b.home, "sessions", `${n}.json`), "utf8"))
      expect(Either.isRight(decodeRecord(raw))).toBe(true)
      expect(raw.project_dir).toBe(project)
      expect(raw.parent).toBe(`${b.instance}-parent`)
    }
    const list = JSON.parse((await b.claudy(["sessions", "list", "--json"])).stdout)
    for (const n of names) expect(list.find((s: any) => s.name === n)?.status).toBe("running")
  })

  test("a session's exit code becomes claudy's when attached without a TTY (Makefile use)", async () => {
    const r = await b.claudy(["--via-parent", "--name", "piped", project, "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 3"])
    expect(r.code).toBe(3)
    expect(r.stdout).toContain("to-out")
    expect(r.stderr).toContain("to-err")
    expect((await sessionJson("piped")).exit_code).toBe(3)
  })
})

describe("session records", () => {
  test("are 0600 in a 0700 directory and reconciled with the labelled containers", async () => {
    await spawnDetached(["--name", "rec"], ["sleep", "300"])
    const file = join(b.home, "sessions", "rec.json")
    expect((Bun.file(file).size)).toBeGreaterThan(0)
    const { statSync } = await import("node:fs")
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(join(b.home, "sessions")).mode & 0o777).toBe(0o700)

    // container without record -> rebuilt from labels
    unlinkSync(file)
    const listed = await b.claudy(["sessions", "list", "--json"])
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout).find((s: any) => s.name === "rec").rebuilt).toBe(true)
    expect(existsSync(file)).toBe(true)

    // corrupt, empty and foreign files are reported and skipped, never fatal
    writeFileSync(join(b.home, "sessions", "broken.json"), "{not json")
    writeFileSync(join(b.home, "sessions", "empty.json"), "")
    writeFileSync(join(b.home, "sessions", "foreign.json"), JSON.stringify({ hello: "world" }))
    const withJunk = await b.claudy(["sessions", "list"])
    expect(withJunk.code).toBe(0)
    expect(withJunk.stderr).toContain("broken.json: not valid JSON")
    expect(withJunk.stderr).toContain("empty.json: empty file")
    expect(withJunk.stderr).toContain("foreign.json: not a claudy session record")
    expect(withJunk.stdout).toContain("rec")
    expect(readFileSync(join(b.home, "sessions", "foreign.json"), "utf8")).toBe(JSON.stringify({ hello: "world" }))

    // container removed behind claudy's back -> record marked gone; rm removes the record
    await docker("rm", "-f", `${b.instance}-worker-rec`)
    const gone = await sessionJson("rec")
    expect(gone.status).toBe("gone")
    expect((await b.claudy(["sessions", "rm", "rec"])).code).toBe(0)
    expect(existsSync(file)).toBe(false)
  })

  test("stop and rm remove the container and the record", async () => {
    await spawnDetached(["--name", "bye"], ["sleep", "300"])
    const stop = await b.claudy(["sessions", "stop", "bye"])
    expect(stop.code).toBe(0)
    expect((await inspect(`${b.instance}-worker-bye`)).State.Running).toBe(false)
    const rm = await b.claudy(["sessions", "rm", "bye"])
    expect(rm.code).toBe(0)
    expect(await inspect(`${b.instance}-worker-bye`)).toBeUndefined()
    expect(existsSync(join(b.home, "sessions", "bye.json"))).toBe(false)
    expect((await b.claudy(["sessions", "rm", "bye"])).code).toBe(2)
  })
})

describe("bad input is refused before any container exists", () => {
  const linkToRoot = join(tmpdir(), `claudy-link-root-${process.pid}`)
  const file = join(tmpdir(), `claudy-not-a-dir-${process.pid}`)
  beforeAll(() => {
    if (!existsSync(linkToRoot)) symlinkSync("/", linkToRoot)
    writeFileSync(file, "x")
  })
  afterAll(() => {
    rmSync(linkToRoot, { force: true })
    rmSync(file, { force: true })
  })

  const cases: Array<[string, () => Array<string>, string]> = [
    ["uppercase name", () => ["--name", "BadName", project], "--name is 'BadName'"],
    ["name with a slash", () => ["--name", "a/b", project], "it contains '/'"],
    ["name with ..", () => ["--name", "a..b", project], "it contains '..'"],
    ["name with a space", () => ["--name", "a b", project], "white space"],
    ["name too long", () => ["--name", "x".repeat(41), project], "41 characters"],
    ["missing path", () => ["/nonexistent/claudy/project"], "does not exist"],
    ["path is a file", () => [file], "is not a directory"],
    ["path is /", () => ["/"], "/ is a system directory"],
    ["symlink to /", () => [linkToRoot], `${linkToRoot} resolves to /`],
    ["memory 0", () => ["--memory", "0", project], "--memory is '0'"],
    ["memory -1", () => ["--memory", "-1", project], "--memory is '-1'"],
    ["memory empty", () => ["--memory", "", project], "--memory is an empty string"],
    ["memory lots", () => ["--memory", "lots", project], "--memory is 'lots'"],
    ["memory 4x", () => ["--memory", "4x", project], "--memory is '4x'"],
    ["cpus 0", () => ["--cpus", "0", project], "--cpus is '0'"],
    ["pids -1", () => ["--pids-limit", "-1", project], "--pids-limit is '-1'"],
    ["no-limits with a limit", () => ["--no-limits", "--memory", "1g", project], "--no-limits cannot be combined with --memory"],
    ["bad -e", () => ["-e", "NOEQUALS", project], "is not KEY=VALUE"],
    ["API key as -e", () => ["-e", "ANTHROPIC_API_KEY=x", project], "docker inspect"]
  ]
  test.each(cases)("%s", async (_label, args, message) => {
    const before = await workerCount()
    const r = await b.claudy(["--via-parent", "--detach", ...args(), "--", "true"])
    expect(r.stderr).toContain(message)
    expect(r.stderr).toContain("Fix:")
    expect(r.code).toBe(2)
    expect(await workerCount()).toBe(before)
  })

  test("a name taken by a live session is refused naming its owner", async () => {
    await spawnDetached(["--name", "taken"], ["sleep", "300"])
    const before = await workerCount()
    const r = await b.claudy(["--via-parent", "-d", "--name", "taken", project, "--", "true"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`Session name 'taken' is taken by container ${b.instance}-worker-taken (running, project ${project})`)
    expect(await workerCount()).toBe(before)
  })

  test("a worker image that is missing (pulls off) is refused naming the image, and nothing is left", async () => {
    const before = await workerCount()
    const slots = join(b.home, "pool", "slots")
    const slotsBefore = existsSync(slots) ? readdirSync(slots).length : 0
    const image = `claudy-test/${b.instance}-missing:1`
    const r = await b.claudy(["--via-parent", "-d", "--image", image, project, "--", "true"], { SKIP_IMAGE_PULL: "true" })
    expect(r.code).toBe(6)
    expect(r.stderr).toContain(image)
    expect(r.stderr).toContain("Fix:")
    expect(await workerCount()).toBe(before)
    expect(existsSync(slots) ? readdirSync(slots).length : 0).toBe(slotsBefore)
  })

  test("parent not running: the guide's exact error and the fix", async () => {
    const other = await sandbox()
    try {
      const p = mkdtempSync(join(tmpdir(), "claudy-p-"))
      const r = await other.claudy(["--via-parent", "-d", p, "--", "true"])
      rmSync(p, { recursive: true })
      expect(r.code).toBe(3)
      expect(r.stderr).toContain(`Error: Parent container '${other.instance}-parent' is not running`)
      expect(r.stderr).toContain("Fix: claudy daemon start")
      const none = await docker("ps", "-aq", "--filter", `label=io.hal9000.instance=${other.instance}`)
      expect(none.stdout).toBe("")
    } finally {
      await other.cleanup()
    }
  })
})

describe("worker user", () => {
  test("is the project's owner, with a private home, and can write the project", async () => {
    const dir = mkdtempSync(join(tmpdir(), "claudy-owned-"))
    chownSync(dir, 1234, 1234)
    try {
      const r = await b.claudy(["--via-parent", "--name", "owner", dir, "--", "sh", "-c", "id -u; touch /workspace/made-here; touch $HOME/ok && echo home-ok"])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain("1234\nhome-ok")
      const { statSync } = await import("node:fs")
      expect(statSync(join(dir, "made-here")).uid).toBe(1234)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("without --via-parent", () => {
  test("the worker has its own network and no ChromaDB", async () => {
    const dir = join(project, "sub")
    mkdirSync(dir, { recursive: true })
    const r = await b.claudy(["--detach", "--name", "alone", dir, "--", "sh", "-c", `curl -s -m 2 localhost:${b.port}/api/v2/heartbeat || echo unreachable; sleep 300`])
    expect(r.code).toBe(0)
    await waitLog("alone", "unreachable")
    const c = await inspect(`${b.instance}-worker-alone`)
    expect(c.HostConfig.NetworkMode).toBe("bridge")
    expect(c.Config.Env.some((e: string) => e.startsWith("CHROMADB_URL="))).toBe(false)
  })
})
