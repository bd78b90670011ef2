import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { LABEL } from "../../src/domain/labels.ts"
import { RECIPES } from "../../src/images/recipes.ts"
import { sampleShape } from "../support/workerShape.ts"
import { type WorkerShape, workerFingerprint, workerSpec } from "../../src/spawn/workerSpec.ts"
import { HANDOFF_READY, handoffPayload, stdinFrame } from "../../src/swarm/handoffProtocol.ts"
import {
  instanceNetwork,
  placementOf,
  workerService,
  workerServiceFingerprint,
  workerServiceName
} from "../../src/swarm/workerService.ts"
import { latestTask, taskProblem } from "../../src/swarm/sessionTask.ts"
import { recordFromService, statusOfTask } from "../../src/swarm/sessionView.ts"
import { placeProject } from "../../src/swarm/spawnPlacement.ts"
import { probeRefusal } from "../../src/swarm/spawnProbe.ts"
import type { SwarmNode, SwarmTask } from "../../src/swarm/types.ts"

const shape = (over: Partial<WorkerShape> = {}) => sampleShape({ projectDir: "/srv/projects/app", parent: null, ...over })
const id = { role: "worker" as const, name: "hal9000-worker-s1", session: "s1", version: "0.1.0" }
const placement = { projectsRoot: "/srv/projects", avoid: [] as Array<string> }
const service = (s: WorkerShape = shape(), p = placement) => workerService(s, id, p) as any

describe("worker service", () => {
  test("one replica, never restarted, no VIP, nothing published", () => {
    const s = service()
    expect(s.Name).toBe("hal9000-worker-s1")
    expect(s.Mode).toEqual({ Replicated: { Replicas: 1 } })
    expect(s.TaskTemplate.RestartPolicy).toEqual({ Condition: "none", MaxAttempts: 0 })
    expect(s.EndpointSpec).toEqual({ Mode: "dnsrr" })
    expect(s.EndpointSpec.Ports).toBeUndefined()
  })
  test("hardened as on one host: non-root, every capability dropped, limits, no engine socket, no key", () => {
    const s = service()
    const c = s.TaskTemplate.ContainerSpec
    expect(c.User).toBe("1000:1000")
    expect(c.CapabilityDrop).toEqual(["ALL"])
    expect(c.CapabilityAdd).toBeUndefined()
    expect(s.TaskTemplate.Resources).toEqual({ Limits: { MemoryBytes: 4 * 1024 ** 3, NanoCPUs: 2e9, Pids: 100 } })
    expect(JSON.stringify(s)).not.toContain("docker.sock")
    expect(JSON.stringify(s)).not.toContain("ANTHROPIC_API_KEY")
    // no host slot: the session arrives on stdin
    expect(c.OpenStdin).toBe(true)
    expect(c.TTY).toBe(true)
    expect(c.Env).toContain("CLAUDY_HANDOFF=stdin")
    expect(c.Env.some((e: string) => e.startsWith("CLAUDY_SLOT="))).toBe(false)
    expect(c.Mounts.some((m: any) => m.Target === "/run/claudy")).toBe(false)
    expect(c.Command).toBeUndefined()
    expect(c.Args).toBeUndefined()
  })
  test("--no-limits sets none", () => {
    expect(service(shape({ limits: { enabled: false, memory: null, cpus: null, pidsLimit: null } })).TaskTemplate.Resources).toEqual({})
  })
  test("the same labels on the service and its task container, the local worker's labels with its session", () => {
    const s = service()
    expect(s.TaskTemplate.ContainerSpec.Labels).toEqual(s.Labels)
    expect(s.Labels[LABEL.session]).toBe("s1")
    expect(s.Labels[LABEL.role]).toBe("worker")
    expect(s.Labels[LABEL.instance]).toBe("hal9000")
    expect(s.Labels[LABEL.project]).toBe("/srv/projects/app")
    expect(s.Labels[LABEL.spec]).toBe(workerServiceFingerprint(shape()))
    const local = workerSpec(shape({ parent: { id: "p", startedAt: "t" } }), { ...id, slot: "x", slotDir: "/x" }).createBody.Labels as Record<string, string>
    for (const k of [LABEL.managed, LABEL.home, LABEL.instance, LABEL.role, LABEL.session, LABEL.project, LABEL.limits, LABEL.profile, LABEL.parent]) {
      expect(s.Labels[k]).toBe(local[k])
    }
  })
  test("placed on nodes with the projects root, by --node, never on a node without the project; spread", () => {
    expect(placementOf(placement).Constraints).toEqual(["node.labels.io.hal9000.projects-root==/srv/projects"])
    const p = placementOf({ projectsRoot: "/srv/projects", node: "n2", avoid: ["abc", "def"] })
    expect(p.Constraints).toEqual([
      "node.labels.io.hal9000.projects-root==/srv/projects",
      "node.hostname==n2",
      "node.id!=abc",
      "node.id!=def"
    ])
    expect("Preferences" in p).toBe(false) // per-service spread would place one-task services at random
    expect(service().TaskTemplate.Placement).toEqual(placementOf(placement))
  })
  test("--via-parent: the instance's overlay, ChromaDB by name and at localhost through the forwarder", () => {
    const s = service()
    expect(s.TaskTemplate.Networks).toEqual([{ Target: instanceNetwork("hal9000") }])
    const env = s.TaskTemplate.ContainerSpec.Env
    expect(env).toContain("CHROMADB_URL=http://hal9000-parent:8000")
    expect(env).toContain("CLAUDY_FORWARD=8000:hal9000-parent:8000")
    expect(env).toContain("CHROMADB_HOST=localhost")
    const own = service(shape({ viaParent: false }))
    expect(own.TaskTemplate.Networks).toBeUndefined()
    expect(own.TaskTemplate.ContainerSpec.Env.some((e: string) => e.startsWith("CHROMADB_") || e.startsWith("CLAUDY_FORWARD"))).toBe(false)
  })
  test("mounts: the project, the node's memory volumes (labelled, the image's modes), the Claude home for the image user", () => {
    const mounts = service().TaskTemplate.ContainerSpec.Mounts
    expect(mounts[0]).toEqual({ Type: "bind", Source: "/srv/projects/app", Target: "/workspace", ReadOnly: false })
    const vols = mounts.filter((m: any) => m.Type === "volume")
    expect(vols.map((m: any) => m.Source)).toEqual(["hal9000-memorybank", "hal9000-plugins", "hal9000-claude-home"])
    for (const v of vols) {
      expect(v.VolumeOptions.NoCopy).toBe(false)
      expect(v.VolumeOptions.Labels[LABEL.instance]).toBe("hal9000")
      expect(v.VolumeOptions.Labels[LABEL.role]).toBe("volume")
    }
    // another uid: no Claude home (Swarm cannot give it to that uid), a writable tmpfs home instead
    const other = service(shape({ user: { uid: 1234, gid: 99 } })).TaskTemplate.ContainerSpec.Mounts
    expect(other.some((m: any) => m.Source === "hal9000-claude-home")).toBe(false)
    expect(other).toContainEqual({ Type: "tmpfs", Target: "/home/claude", TmpfsOptions: { Mode: 0o1777 } })
  })
  test("cold and warm differ only in role, name and session label", () => {
    const cold = workerService(shape(), id, placement) as any
    const warm = workerService(shape(), { role: "warm", name: "hal9000-warm-abc", slot: "abc", version: "0.1.0" }, placement) as any
    const strip = (s: any) => {
      const labels = { ...s.Labels, [LABEL.role]: "", [LABEL.session]: "", [LABEL.slot]: "" }
      return { ...s, Name: "", Labels: labels, TaskTemplate: { ...s.TaskTemplate, ContainerSpec: { ...s.TaskTemplate.ContainerSpec, Labels: labels } } }
    }
    expect(strip(warm)).toEqual(strip(cold))
    expect(warm.Labels[LABEL.slot]).toBe("abc")
  })
  test("the fingerprint is the shape, not the parent's run, and differs from the local one", () => {
    const a = workerServiceFingerprint(shape())
    expect(workerServiceFingerprint(shape({ parent: { id: "p2", startedAt: "t" } }))).toBe(a)
    expect(workerServiceFingerprint(shape({ tty: false }))).not.toBe(a)
    expect(workerServiceFingerprint(shape({ projectDir: "/srv/projects/other" }))).not.toBe(a)
    expect(workerServiceFingerprint(shape({ viaParent: false }))).not.toBe(a)
    expect(workerServiceFingerprint(shape({ image: "img:2" }))).not.toBe(a)
    expect(a).not.toBe(workerFingerprint(shape()))
  })
  test("service names stay DNS labels", () => {
    expect(workerServiceName("hal9000", "worker", "s1")).toBe("hal9000-worker-s1")
    const long = workerServiceName("a-very-long-instance-name-here", "worker", "my-project-name-0123456789abcdef-extra")
    expect(long.length).toBeLessThanOrEqual(63)
    expect(long).toMatch(/^[a-z0-9-]+$/)
    expect(long).not.toBe(workerServiceName("a-very-long-instance-name-here", "worker", "my-project-name-0123456789abcdef-extrb"))
  })
})

describe("stdin hand-off", () => {
  const entrypoint = () => {
    const dir = mkdtempSync(join(tmpdir(), "claudy-ep-"))
    const file = join(dir, "entrypoint.sh")
    writeFileSync(file, RECIPES.worker.files["worker-entrypoint.sh"]!)
    return file
  }
  const runEntrypoint = async (stdin: string, cmd: Array<string>) => {
    const file = entrypoint()
    // the relay where the image has it, from the recipe, beside this copy of the entrypoint
    const relay = join(file, "..", "unframe.py")
    writeFileSync(relay, RECIPES.worker.files["worker-unframe.py"]!)
    writeFileSync(file, RECIPES.worker.files["worker-entrypoint.sh"]!.replace("/usr/local/lib/claudy/unframe.py", relay))
    const proc = Bun.spawn(["sh", file, ...cmd], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CLAUDY_HANDOFF: "stdin" },
      stdin: new Blob([stdin]),
      stdout: "pipe",
      stderr: "pipe"
    })
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    return { out, err, code }
  }
  test("the payload is short base64 lines and an end line; the key is in it, not in clear", () => {
    const p = handoffPayload({ session: "s1", env: ["A=1"], command: ["sh", "-c", "exit 3"], apiKey: "sk-secret" })
    const lines = p.trimEnd().split("\n")
    expect(lines.at(-1)).toBe(".")
    for (const l of lines.slice(0, -1)) expect(l).toMatch(/^[A-Za-z0-9+/=]{1,76}$/)
    expect(p).not.toContain("sk-secret")
  })
  test("the entrypoint reads the session from stdin and runs it with its environment and key", async () => {
    const payload = handoffPayload({
      session: "s1",
      env: ["GREETING=it's \"quoted\" $HOME"],
      command: ["sh", "-c", 'echo "$HAL9000_SESSION|$GREETING|$ANTHROPIC_API_KEY"; exit 3'],
      apiKey: "sk-'x'"
    })
    const r = await runEntrypoint(payload, ["false"])
    expect(r.out).toBe(`${HANDOFF_READY}\ns1|it's "quoted" $HOME|sk-'x'\n`)
    expect(r.code).toBe(3)
  })
  test("without a TTY, the input after the session comes in frames and its end is the session's end of file", async () => {
    const payload = handoffPayload({ session: "s3", env: [], command: ["sh", "-c", "cat; echo after-eof; exit 6"], apiKey: "", framedStdin: true })
    const input = stdinFrame(new TextEncoder().encode("line1\nli")) + stdinFrame(new TextEncoder().encode("ne2\n")) + stdinFrame("end") + "d bm90IHRoaXM=\n"
    const r = await runEntrypoint(payload + input, ["false"])
    expect(r.out).toBe(`${HANDOFF_READY}\nline1\nline2\nafter-eof\n`)
    expect(r.code).toBe(6)
  })
  test("without a command the image's default runs; stdin that ends early is an error, not a session", async () => {
    const r = await runEntrypoint(handoffPayload({ session: "s2", env: [], command: [], apiKey: "" }), ["sh", "-c", 'echo "default $HAL9000_SESSION"'])
    expect(r.out).toBe(`${HANDOFF_READY}\ndefault s2\n`)
    const cut = await runEntrypoint("c2V0IC0tIHRydWUK\n", ["true"])
    expect(cut.code).toBe(70)
    expect(cut.err).toContain("stdin ended before the session arrived")
  })
})

const node = (id: string, hostname: string, over: { root?: string; state?: string; availability?: string } = {}): SwarmNode => ({
  ID: id,
  Version: { Index: 1 },
  Spec: {
    Labels: over.root === "" ? {} : { "io.hal9000.projects-root": over.root ?? "/srv/projects" },
    Availability: over.availability ?? "active"
  },
  Description: { Hostname: hostname },
  Status: { State: over.state ?? "ready" }
})

describe("placement of a project", () => {
  const nodes = [node("a", "n1"), node("b", "n2"), node("c", "n3", { state: "down" }), node("d", "n4", { root: "/other" })]
  test("the projects root that holds the project, and its ready nodes", () => {
    const r = placeProject("/srv/projects/app", nodes, undefined)
    expect(Either.isRight(r) && r.right.root).toBe("/srv/projects")
    expect(Either.isRight(r) && r.right.candidates.map((n) => n.ID)).toEqual(["a", "b"])
    // a path that only starts like the root is not under it
    expect(Either.isLeft(placeProject("/srv/projects-old/app", nodes, undefined))).toBe(true)
  })
  test("a project outside every root is refused, naming the roots and the fix", () => {
    const r = placeProject("/home/me/app", nodes, undefined)
    expect(Either.isLeft(r) && r.left.message).toContain("/home/me/app is not under a projects root of the swarm (/srv/projects, /other)")
    const none = placeProject("/srv/projects/app", [node("a", "n1", { root: "" })], undefined)
    expect(Either.isLeft(none) && none.left.message).toContain("no swarm node has a projects root")
  })
  test("--node: a ready node with the root, else refused with why", () => {
    const ok = placeProject("/srv/projects/app", nodes, "n2")
    expect(Either.isRight(ok) && ok.right.candidates.map((n) => n.ID)).toEqual(["b"])
    const why = (n: string) => {
      const r = placeProject("/srv/projects/app", nodes, n)
      return Either.isLeft(r) ? r.left.message : ""
    }
    expect(why("n9")).toContain("the swarm has no node named n9")
    // a node id is not a hostname: refused here rather than a constraint no node meets
    expect(why("b")).toContain("the swarm has no node named b")
    expect(why("n3")).toContain("node n3 is down")
    expect(why("n4")).toContain("node n4 has no projects root /srv/projects")
  })
  test("no ready node with the root", () => {
    const r = placeProject("/srv/projects/app", [node("a", "n1", { availability: "drain" })], undefined)
    expect(Either.isLeft(r) && r.left.message).toContain("no ready node has the projects root")
  })
  test("a refused probe, in the user's words", () => {
    expect(probeRefusal(400, 'invalid mount config for type "bind": bind source path does not exist: /srv/projects/app')).toBe("no /srv/projects/app")
    expect(probeRefusal(404, "No such image: sha256:abc")).toBe("no image (No such image: sha256:abc)")
  })
})

const task = (state: string, over: Partial<SwarmTask> = {}): SwarmTask =>
  ({ ID: "t", ServiceID: "s", NodeID: "a", CreatedAt: "2026-12-02T08:00:00Z", DesiredState: "running", Labels: {}, Status: { State: state }, ...over }) as SwarmTask

describe("a session's task", () => {
  test("the newest task is the session", () => {
    expect(latestTask([task("failed", { ID: "old", CreatedAt: "2026-12-02T07:00:00Z" }), task("running", { ID: "new" })])?.ID).toBe("new")
    expect(latestTask([])).toBeUndefined()
  })
  test("its state when its container is out of reach", () => {
    expect(statusOfTask(task("running"), false)).toBe("running")
    expect(statusOfTask(task("running"), true)).toBe("lost")
    expect(statusOfTask(task("orphaned"), false)).toBe("lost")
    expect(statusOfTask(task("failed"), false)).toBe("exited")
    expect(statusOfTask(task("pending"), false)).toBe("created")
    expect(statusOfTask(undefined, false)).toBe("created")
    expect(taskProblem(task("rejected", { Status: { State: "rejected", Err: "no such image" } }))).toBe("rejected: no such image")
  })
  test("a record from the service's labels: name, project, limits, node, exit code", () => {
    const svc = workerService(shape(), id, { ...placement, imageId: "sha256:abc" }) as any
    const r = recordFromService(
      { ID: "s", Version: { Index: 1 }, CreatedAt: "2026-12-02T08:00:00Z", Spec: svc },
      task("failed", { Status: { State: "failed", ContainerStatus: { ContainerID: "c1", ExitCode: 3 } } }),
      "exited",
      "n2",
      "now"
    )
    expect(r).toMatchObject({ name: "s1", image: "img:1", project_dir: "/srv/projects/app", node: "n2", exit_code: 3, container_id: "c1", network_mode: "hal9000-net" })
    expect(r.resource_limits).toEqual({ enabled: true, memory: "4g", cpus: "2", pids_limit: "100" })
    expect(svc.TaskTemplate.ContainerSpec.Image).toBe("sha256:abc")
  })
})
