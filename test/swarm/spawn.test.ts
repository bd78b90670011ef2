/**
 * Spawns across the lab's nodes (issue 14, item 4, and the worker side of item 3), against the compiled binary: a
 * session is a one-replica service that is never restarted, hardened as on one host (the key never in its spec),
 * placed on a node that has the project — `--node` honoured, a node where the project's path is masked never chosen —
 * and a --via-parent worker reaches ChromaDB by name and at localhost through its forwarder.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { chownSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CLAUDY, run, waitFor } from "../support/harness.ts"
import { dockerAt, type SwarmSandbox, swarmSandbox } from "../support/swarm.ts"

const KEY = `sk-ant-test-${Math.random().toString(36).slice(2, 12)}`
let b: SwarmSandbox
let projects: string
const masked: Array<{ node: string; path: string }> = []

const dockerdPid = async (node: string) => (await run(["cat", `/run/claudy-lab/${node}.pid`])).stdout.trim()
/** Hide `path` from one node's engine only (its dockerd has its own mount namespace). */
const mask = async (node: string, path: string) => {
  const r = await run(["nsenter", "--mount", `--target=${await dockerdPid(node)}`, "mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", path])
  expect(r.code).toBe(0)
  masked.push({ node, path })
}
const unmaskAll = async () => {
  for (const m of masked.splice(0)) await run(["nsenter", "--mount", `--target=${await dockerdPid(m.node)}`, "umount", m.path])
}

const project = (name: string) => {
  const dir = join(projects, name)
  mkdirSync(dir, { recursive: true })
  chownSync(dir, 1000, 1000)
  return dir
}
const claudy = (args: ReadonlyArray<string>) => b.claudy(args, { ANTHROPIC_API_KEY: KEY })
const spawnDetached = async (args: ReadonlyArray<string>) => {
  const r = await claudy(["-d", "--new", ...args])
  expect(r.stderr).not.toContain("Error")
  expect(r.code).toBe(0)
  return r.stdout.trim()
}
const inspectSession = async (name: string) => JSON.parse((await claudy(["sessions", "inspect", "--json", name])).stdout)
const serviceOf = async (name: string) => {
  const id = (await dockerAt(b.lab.manager, "service", "ls", "-q", "--filter", `label=io.hal9000.session=${name}`, "--filter", `label=io.hal9000.instance=${b.instance}`)).stdout.trim()
  return JSON.parse((await dockerAt(b.lab.manager, "service", "inspect", id)).stdout)[0]
}
const logsOf = (name: string) => async () => (await claudy(["sessions", "logs", name])).stdout

beforeAll(async () => {
  b = await swarmSandbox()
  projects = join(b.lab.projectsRoot, b.instance)
  mkdirSync(projects, { recursive: true })
})
afterAll(async () => {
  await unmaskAll()
  await b?.cleanup()
  if (projects) rmSync(projects, { recursive: true, force: true })
})

test("a session is a one-replica service, never restarted, hardened, the key only on its stdin; NoNewPrivs inside", async () => {
  const dir = project("hardened")
  const name = await spawnDetached([
    dir,
    "--",
    "sh",
    "-c",
    `grep -E '^(NoNewPrivs|CapEff)' /proc/self/status; echo "uid=$(id -u)"; [ "$ANTHROPIC_API_KEY" = "${KEY}" ] && echo key-arrived; ls -l /var/run/docker.sock 2>&1 | tail -1; sleep 600`
  ])
  const out = await waitFor("the session's checks", async () => {
    const text = await logsOf(name)()
    return text.includes("docker.sock") ? text : undefined
  }, 60_000)
  expect(out).toMatch(/NoNewPrivs:\s+1/)
  expect(out).toMatch(/CapEff:\s+0000000000000000/)
  expect(out).toContain("uid=1000")
  expect(out).toContain("key-arrived")
  expect(out).toContain("No such file or directory")
  expect(out).not.toContain(KEY)

  const svc = await serviceOf(name)
  const spec = svc.Spec
  expect(spec.Mode).toEqual({ Replicated: { Replicas: 1 } })
  expect(spec.TaskTemplate.RestartPolicy.Condition).toBe("none")
  const c = spec.TaskTemplate.ContainerSpec
  expect(c.User).toBe("1000:1000")
  expect(c.CapabilityDrop).toEqual(["ALL"])
  expect(spec.TaskTemplate.Resources.Limits.MemoryBytes).toBeGreaterThan(0)
  expect(spec.TaskTemplate.Resources.Limits.NanoCPUs).toBeGreaterThan(0)
  expect(spec.TaskTemplate.Resources.Limits.Pids).toBeGreaterThan(0)
  expect(c.Image).toMatch(/^sha256:/)
  expect(spec.TaskTemplate.Placement.Constraints).toContain(`node.labels.io.hal9000.projects-root==${b.lab.projectsRoot}`)
  expect(JSON.stringify(svc)).not.toContain(KEY)
  expect(JSON.stringify(svc)).not.toContain("docker.sock")

  // the task's container on its node: the same labels, the key in neither its config nor its log
  const s = await inspectSession(name)
  expect(Object.keys(b.lab.nodes)).toContain(s.node)
  const container = JSON.parse((await dockerAt(b.lab.nodes[s.node]!, "inspect", s.container_id)).stdout)[0]
  expect(container.Config.Labels["io.hal9000.session"]).toBe(name)
  expect(container.Config.Labels["io.hal9000.instance"]).toBe(b.instance)
  expect(JSON.stringify(container)).not.toContain(KEY)
  expect((await dockerAt(b.lab.nodes[s.node]!, "logs", s.container_id)).stdout).not.toContain(KEY)
})

test("attached: the session's output and exit code are claudy's, also after claudy's stdin has ended", async () => {
  const r = await claudy(["--new", project("attached"), "--", "sh", "-c", "echo hello-from-the-swarm; exit 3"])
  expect(r.stdout).toContain("hello-from-the-swarm")
  expect(r.code).toBe(3)
  // claudy's stdin is /dev/null: it ends at once, and the session's later output must still come through
  const late = await claudy(["--new", project("late"), "--", "sh", "-c", "sleep 2; echo late-output; exit 5"])
  expect(late.stdout).toContain("late-output")
  expect(late.code).toBe(5)
  // piped input reaches the session, and its end is the session's end of file (as StdinOnce gives on one host)
  const proc = Bun.spawn([CLAUDY, "--new", project("piped"), "--", "sh", "-c", "cat; echo after-eof; exit 6"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...b.env },
    stdin: new Blob(["piped-in-1\npiped-in-2\n"]),
    stdout: "pipe",
    stderr: "pipe"
  })
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
  expect(out).toContain("piped-in-1\npiped-in-2\nafter-eof")
  expect(code).toBe(6)
})

test("--node places the session on that node; a project outside the projects root is refused, nothing created", async () => {
  const name = await spawnDetached(["--node", "n3", project("pinned"), "--", "sleep", "600"])
  expect((await inspectSession(name)).node).toBe("n3")
  expect((await serviceOf(name)).Spec.TaskTemplate.Placement.Constraints).toContain("node.hostname==n3")

  const services = async () =>
    (await dockerAt(b.lab.manager, "service", "ls", "--filter", `label=io.hal9000.instance=${b.instance}`, "--format", "{{.Name}}")).stdout
  const before = await services()
  const outside = mkdtempSync(join(tmpdir(), "claudy-outside-")) // a real directory, not under the projects root
  const refused = await claudy(["-d", "--new", outside, "--", "true"])
  expect(refused.code).not.toBe(0)
  expect(refused.stderr).toContain("not under a projects root")
  expect(refused.stderr).toContain(b.lab.projectsRoot)
  const bad = await claudy(["-d", "--new", "--node", "n9", project("nonode"), "--", "true"])
  expect(bad.code).not.toBe(0)
  expect(bad.stderr).toContain("--node n9")
  expect(await services()).toBe(before)
  rmSync(outside, { recursive: true, force: true })
})

test("a node where the project's path is missing is never chosen; --node on it is refused with the reason", async () => {
  const dir = project("masked")
  // this test's projects hidden on n1 and n2: only n3 has the project (other tests' projects are untouched)
  await mask("n1", projects)
  await mask("n2", projects)
  const names = [await spawnDetached([dir, "--", "sleep", "600"]), await spawnDetached([dir, "--", "sleep", "600"])]
  for (const n of names) {
    const s = await waitFor(`${n} to run`, async () => {
      const v = await inspectSession(n)
      return v.status === "running" ? v : undefined
    })
    expect(s.node).toBe("n3")
    const constraints = (await serviceOf(n)).Spec.TaskTemplate.Placement.Constraints as Array<string>
    expect(constraints.filter((c) => c.startsWith("node.id!=")).length).toBe(2)
  }
  const refused = await claudy(["-d", "--new", "--node", "n2", dir, "--", "true"])
  expect(refused.code).not.toBe(0)
  expect(refused.stderr).toContain("no node can run")
  expect(refused.stderr).toContain(`n2: no ${dir}`)
  await unmaskAll()
})

test("--via-parent: the worker joins the instance's network and reaches ChromaDB by name and at localhost", async () => {
  const started = await claudy(["daemon", "start"])
  expect(started.code).toBe(0)
  const name = await spawnDetached([
    "--via-parent",
    project("chroma"),
    "--",
    "sh",
    "-c",
    'for i in $(seq 1 100); do curl -sf "$CHROMADB_URL/api/v2/heartbeat" >/dev/null && break; sleep 0.2; done; ' +
      'echo "by-name $(curl -sf $CHROMADB_URL/api/v2/heartbeat)"; echo "localhost $(curl -sf http://localhost:$CHROMADB_PORT/api/v2/heartbeat)"; sleep 600'
  ])
  const out = await waitFor("both heartbeats", async () => {
    const text = await logsOf(name)()
    return /localhost .*\n?/.test(text) ? text : undefined
  }, 90_000)
  expect(out).toMatch(/by-name \{"nanosecond heartbeat":\d+\}/)
  expect(out).toMatch(/localhost \{"nanosecond heartbeat":\d+\}/)
  const s = await inspectSession(name)
  expect(s.network_mode).toBe(`${b.instance}-net`)
  const env = (await serviceOf(name)).Spec.TaskTemplate.ContainerSpec.Env as Array<string>
  expect(env).toContain(`CHROMADB_URL=http://${b.instance}-parent:${b.port}`)
})

test("the project's own session: found again on the next spawn wherever it runs, replaced under its name once it ended", async () => {
  const dir = project("own")
  const first = await claudy(["-d", dir, "--", "sh", "-c", "sleep 600"])
  expect(first.code).toBe(0)
  const name = first.stdout.trim()
  const again = await claudy(["-d", dir])
  expect(again.code).toBe(0)
  expect(again.stdout.trim()).toBe(name)
  expect(again.stderr).toContain(`session ${name} already runs for ${dir}`)
  const one = (await dockerAt(b.lab.manager, "service", "ls", "-q", "--filter", `label=io.hal9000.session=${name}`)).stdout.trim().split("\n")
  expect(one.length).toBe(1)

  expect((await claudy(["sessions", "stop", name])).code).toBe(0)
  const replaced = await claudy(["-d", dir, "--", "sh", "-c", "echo second-run; sleep 600"])
  expect(replaced.code).toBe(0)
  expect(replaced.stdout.trim()).toBe(name)
  await waitFor("the new session's output", async () => ((await logsOf(name)()).includes("second-run") ? true : undefined), 60_000)
  const now = (await dockerAt(b.lab.manager, "service", "ls", "-q", "--filter", `label=io.hal9000.session=${name}`)).stdout.trim().split("\n")
  expect(now.length).toBe(1)
  expect(now[0]).not.toBe(one[0])
})
