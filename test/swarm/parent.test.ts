/**
 * The parent on the real swarm lab (HAL9000_BACKEND=swarm): `daemon start` makes a one-replica service pinned by node
 * label to the node holding its volumes, on the instance's attachable overlay network (dnsrr, nothing published);
 * ChromaDB answers by name from a container on another node; stop/start/restart keep the data; backup and restore
 * round-trip real records through the holder node's engine; status shows the node; doctor checks every node's engine
 * and NoNewPrivs; commands with no swarm form are refused with the fix.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { dockerAt, type SwarmSandbox, swarmSandbox } from "../support/swarm.ts"

const PARENT_IMAGE = "ghcr.io/hellblazer/hal-9000:parent"

let s: SwarmSandbox
let dest: string
let collection: string

const name = () => `${s.instance}-parent`
const network = () => `${s.instance}-net`
const url = () => `http://${name()}:${s.port}`

/**
 * ChromaDB calls made from a container on `node` (its own engine), attached to the instance's network, reaching
 * ChromaDB by the service's name: what a worker on that node does. One container runs all `ops`, in order.
 */
const chromaFrom = async (node: string, ops: ReadonlyArray<{ readonly path: string; readonly body?: unknown }>) => {
  const script = `const [url, ops] = [process.argv[1], JSON.parse(process.argv[2])];
(async () => {
  const out = [];
  for (const o of ops) {
    const r = await fetch(url + o.path, o.body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(o.body) });
    const t = await r.text();
    if (!r.ok) throw new Error(o.path + " -> " + r.status + ": " + t);
    out.push(t ? JSON.parse(t) : null);
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(String(e)); process.exit(1); });`
  const r = await dockerAt(s.lab.nodes[node]!, "run", "--rm", "--network", network(), "--label", `io.hal9000.instance=${s.instance}`,
    "--entrypoint", "node", PARENT_IMAGE, "-e", script, url(), JSON.stringify(ops))
  if (r.code !== 0) throw new Error(`ChromaDB from ${node}: ${r.stderr}`)
  return JSON.parse(r.stdout) as Array<any>
}
const db = "/api/v2/tenants/default_tenant/databases/default_database"
const documents = async (node: string, ids: Array<string>): Promise<Array<string>> =>
  (await chromaFrom(node, [{ path: `${db}/collections/${collection}/get`, body: { ids, include: ["documents"] } }]))[0].documents

/** The node running the parent's task, from the manager. */
const taskNode = async () => {
  const r = await dockerAt(s.lab.manager, "service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}", name())
  return r.stdout.split("\n").find((l) => / Running /.test(l))?.split(" ")[0]
}
const otherNode = (than: string) => Object.keys(s.lab.nodes).find((n) => n !== than)!
const statusJson = async () => {
  const r = await s.claudy(["daemon", "status", "--json"])
  return { code: r.code, status: JSON.parse(r.stdout) }
}

beforeAll(async () => {
  s = await swarmSandbox()
  dest = mkdtempSync(join(tmpdir(), "claudy-swarm-backups-"))
})
afterAll(async () => {
  rmSync(dest, { recursive: true, force: true })
  await s.cleanup()
})

describe("the parent on a swarm", () => {
  test("start: a pinned service on the instance's overlay network; ChromaDB answers by name from another node", async () => {
    const before = await statusJson()
    expect(before.code).toBe(3)
    expect(before.status).toMatchObject({ backend: "swarm", state: "absent", container: name() })

    const started = await s.claudy(["daemon", "start"])
    expect(started.stderr).not.toContain("Error")
    expect(started.code).toBe(0)
    expect(started.stdout).toContain(`Parent service '${name()}' created on node n1; ChromaDB is ready at ${url()}`)

    // pinned: the manager's node was labelled as the holder (none was), and the service is constrained to it
    const labels = JSON.parse((await dockerAt(s.lab.manager, "node", "inspect", "--format", "{{json .Spec.Labels}}", "n1")).stdout)
    expect(labels[`io.hal9000.parent.${s.instance}`]).toBe("true")
    const spec = JSON.parse((await dockerAt(s.lab.manager, "service", "inspect", "--format", "{{json .Spec}}", name())).stdout)
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 1 } })
    expect(spec.EndpointSpec.Mode).toBe("dnsrr")
    expect(spec.EndpointSpec.Ports ?? []).toEqual([])
    expect(spec.TaskTemplate.Placement.Constraints).toEqual([`node.labels.io.hal9000.parent.${s.instance}==true`])
    expect(spec.Labels["io.hal9000.instance"]).toBe(s.instance)
    const net = JSON.parse((await dockerAt(s.lab.manager, "network", "inspect", "--format", "{{json .}}", network())).stdout)
    expect(net).toMatchObject({ Driver: "overlay", Attachable: true, Scope: "swarm" })
    expect(net.Labels["io.hal9000.instance"]).toBe(s.instance)
    expect(spec.TaskTemplate.Networks.map((n: { Target: string }) => n.Target)).toEqual([net.Id])
    // its volumes are on the holder node, labelled as claudy's
    const vols = (await dockerAt(s.lab.nodes.n1!, "volume", "ls", "-q", "--filter", `label=io.hal9000.instance=${s.instance}`)).stdout.split("\n").filter(Boolean)
    expect(vols.sort()).toEqual([`${s.instance}-chromadb`, `${s.instance}-memorybank`, `${s.instance}-plugins`])

    const on = await taskNode()
    expect(on).toBe("n1")
    const from = otherNode(on!)
    const [created] = await chromaFrom(from, [{ path: `${db}/collections`, body: { name: "history", get_or_create: true } }])
    collection = created.id
    await chromaFrom(from, [{ path: `${db}/collections/${collection}/add`, body: { ids: ["h1"], documents: ["before the backup"], embeddings: [[0.1, 0.2, 0.3]] } }])
    expect(await documents(otherNode(from), ["h1"])).toEqual(["before the backup"])

    // its log comes from the task's container, through the engine of the node that runs it
    const logs = await s.claudy(["daemon", "logs", "--tail", "200"])
    expect(logs.code).toBe(0)
    expect(logs.stdout).toContain(`claudy-parent: chroma run --host 0.0.0.0 --port ${s.port}`)

    const again = await s.claudy(["daemon", "start"])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain(`Parent service '${name()}' is already running on node n1; ChromaDB is healthy at ${url()}`)
  })

  test("status shows the node, the network and a healthy ChromaDB; doctor checks every node", async () => {
    const { code, status } = await statusJson()
    expect(code).toBe(0)
    expect(status).toMatchObject({ backend: "swarm", state: "running", healthy: true, node: "n1", network: network(), port: s.port })
    expect(status.chromadb).toMatchObject({ url: url(), heartbeat: true })
    expect(status.chromadb.version).toMatch(/^\d+\.\d+/)
    expect(status.volumes.every((v: { present: boolean }) => v.present)).toBe(true)
    const text = await s.claudy(["daemon", "status"])
    expect(text.stdout).toMatch(/Node:\s+n1/)
    expect(text.stdout).toMatch(new RegExp(`Network:\\s+${network()}`))

    const doctor = await s.claudy(["doctor", "--json"])
    const report = JSON.parse(doctor.stdout) as { ok: boolean; checks: Array<{ name: string; level: string; detail: string }> }
    expect(report.checks.filter((c) => c.level === "fail")).toEqual([])
    expect(doctor.code).toBe(0)
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]))
    expect(byName.manager!.level).toBe("ok")
    for (const n of Object.keys(s.lab.nodes)) {
      expect(byName[`engine ${n}`]).toMatchObject({ level: "ok" })
      expect(byName[`engine ${n}`]!.detail).toContain(s.lab.nodes[n]!)
      expect(byName[`no-new-privileges ${n}`]).toMatchObject({ level: "ok", detail: `NoNewPrivs: 1 in a container on ${n}` })
      expect(["ok", "warn"]).toContain(byName[`swap ${n}`]!.level)
    }
    expect(byName.parent).toMatchObject({ level: "ok" })
  })

  test("stop and start keep the data, restart too; a changed setting is refused by start", async () => {
    const stopped = await s.claudy(["daemon", "stop"])
    expect(stopped.code).toBe(0)
    expect(stopped.stdout).toContain(`Parent service '${name()}' stopped`)
    // the task's container has ended: ChromaDB's files are at rest
    for (const host of Object.values(s.lab.nodes)) {
      const running = await dockerAt(host, "ps", "-q", "--filter", `label=com.docker.swarm.service.name=${name()}`)
      expect(running.stdout.trim()).toBe("")
    }
    const st = await statusJson()
    expect(st.code).toBe(3)
    expect(st.status).toMatchObject({ state: "stopped", node: "n1" })
    expect((await s.claudy(["daemon", "stop"])).stdout).toContain("is already stopped")

    const started = await s.claudy(["daemon", "start"])
    expect(started.code).toBe(0)
    expect(started.stdout).toContain(`Parent service '${name()}' started on node n1`)
    expect(await documents("n3", ["h1"])).toEqual(["before the backup"])

    const restarted = await s.claudy(["daemon", "restart"])
    expect(restarted.code).toBe(0)
    expect(restarted.stderr).toContain(`Stopped '${name()}'`)
    expect(await documents("n2", ["h1"])).toEqual(["before the backup"])

    // another setting of the parent's own: start refuses it (exit 7, naming it; restart would apply it)
    const differs = await s.claudy(["daemon", "start"], { CHROMADB_DATA_DIR: "/data/chroma2" })
    expect(differs.code).toBe(7)
    expect(differs.stderr).toContain("CHROMADB_DATA_DIR /data/chromadb -> /data/chroma2")
  })

  test("backup and restore round-trip real records through the holder node's engine", async () => {
    const taken = await s.claudy(["backup", "--dest", dest])
    expect(taken.stderr).not.toContain("Error")
    expect(taken.code).toBe(0)
    const dir = /Backup written to (\S+)/.exec(taken.stdout)![1]!
    expect(readdirSync(dir).sort()).toEqual(["SHA256SUMS", "chromadb.tar.gz", "home.tar.gz", "manifest.json", "memorybank.tar.gz", "plugins.tar.gz"])
    // started again after archiving; the data changes after the backup
    expect((await statusJson()).status).toMatchObject({ state: "running", healthy: true })
    await chromaFrom("n2", [{ path: `${db}/collections/${collection}/add`, body: { ids: ["h2"], documents: ["after the backup"], embeddings: [[0.3, 0.2, 0.1]] } }])
    expect(await documents("n3", ["h2"])).toEqual(["after the backup"])
    // nothing of the helpers is left on any node
    for (const host of Object.values(s.lab.nodes)) {
      expect((await dockerAt(host, "ps", "-aq", "--filter", `label=io.hal9000.role=helper`, "--filter", `label=io.hal9000.instance=${s.instance}`)).stdout.trim()).toBe("")
    }

    const restored = await s.claudy(["restore", dir])
    expect(restored.stderr).not.toContain("Error")
    expect(restored.code).toBe(0)
    expect(restored.stdout).toContain(`ChromaDB answers at ${url()}`)
    expect(await documents("n2", ["h1", "h2"])).toEqual(["before the backup"])
  })

  test("commands with no swarm form are refused with the fix; a worker node is not a manager", async () => {
    for (const args of [["daemon", "run"], ["reset"], ["debug-bundle"]]) {
      const r = await s.claudy(args)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`claudy ${args.join(" ")} is not available with HAL9000_BACKEND=swarm`)
      expect(r.stderr).toContain("Fix:")
    }
    const worker = await s.claudy(["daemon", "status"], { DOCKER_HOST: s.lab.nodes.n2! })
    expect(worker.code).toBe(5)
    expect(worker.stderr).toContain("not a manager")

    // the parent's volumes are on one node: a second node labelled as holding them is refused with the fix
    const label = `io.hal9000.parent.${s.instance}`
    expect((await dockerAt(s.lab.manager, "node", "update", "--label-add", `${label}=true`, "n3")).code).toBe(0)
    try {
      const two = await s.claudy(["daemon", "start"])
      expect(two.code).toBe(2)
      expect(two.stderr).toContain(`2 swarm nodes (n1, n3) carry ${label}=true`)
      expect(two.stderr).toContain(`docker node update --label-rm ${label} NODE`)
    } finally {
      await dockerAt(s.lab.manager, "node", "update", "--label-rm", label, "n3")
    }
  })

  test("ChromaDB bound to its task's loopback: start times out naming CHROMADB_HOST; status says unhealthy", async () => {
    const env = { CHROMADB_HOST: "127.0.0.1", CHROMADB_START_TIMEOUT: "8" }
    const r = await s.claudy(["daemon", "restart"], env)
    expect(r.code).toBe(8)
    expect(r.stderr).toContain("likely cause: CHROMADB_HOST=127.0.0.1 binds ChromaDB to its task's own loopback")
    expect(r.stderr).toContain("Fix: CHROMADB_HOST=0.0.0.0 claudy daemon restart")
    const st = await s.claudy(["daemon", "status", "--json"], env)
    expect(st.code).toBe(4)
    expect(JSON.parse(st.stdout)).toMatchObject({ state: "running", healthy: false, chromadb: { heartbeat: false } })
  })
})
