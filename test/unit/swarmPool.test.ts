import { describe, expect, test } from "bun:test"
import { LABEL } from "../../src/domain/labels.ts"
import { planPool } from "../../src/pool/plan.ts"
import {
  asObservedWarm,
  claimedSpec,
  claimOrder,
  reapingSpec,
  statusWorker,
  type NodeLike,
  type ServiceLike,
  type TaskLike,
  WARM_LABEL,
  warmServices
} from "../../src/swarm/poolView.ts"
import { serviceCreateArgs } from "../bench/swarmBaseline.ts"
import { SWARM_BEGIN, SWARM_END, swarmSectionOf, withSwarmSection } from "../bench/swarmSection.ts"

const node = (id: string, state = "ready", availability = "active"): NodeLike => ({
  ID: id,
  Description: { Hostname: `h-${id}` },
  Status: { State: state },
  Spec: { Availability: availability }
})
const service = (id: string, labels: Record<string, string>, version = 10): ServiceLike => ({
  ID: id,
  Version: { Index: version },
  CreatedAt: "2026-12-02T08:00:00Z",
  Spec: { Name: `i-warm-${id}`, Labels: { [LABEL.spec]: "fp", [LABEL.project]: "/p", ...labels }, TaskTemplate: { ContainerSpec: { Image: "w" } } }
})
const task = (service: string, nodeId: string, state = "running", desired = "running"): TaskLike => ({
  ID: `t-${service}`,
  ServiceID: service,
  NodeID: nodeId,
  DesiredState: desired,
  Status: { State: state, ContainerStatus: { ContainerID: `c-${service}` } }
})
const free = { [WARM_LABEL]: "free" }

describe("swarm warm pool view", () => {
  test("only services with the warm label are warm; each has its running task and its node's state", () => {
    const w = warmServices(
      [service("a", free), service("b", { [WARM_LABEL]: "claimed", [LABEL.session]: "s1" }), service("c", {})],
      [task("a", "n1"), task("b", "n2", "running"), task("a", "n2", "shutdown", "shutdown")],
      [node("n1"), node("n2", "down")]
    )
    expect(w.map((x) => [x.id, x.state, x.session, x.task?.node, x.task?.containerId, x.nodeReady])).toEqual([
      ["a", "free", undefined, "n1", "c-a", true],
      ["b", "claimed", "s1", "n2", "c-b", false]
    ])
    expect(w[0]!.version).toBe(10)
    expect(w[0]!.createdAtMs).toBe(Date.parse("2026-12-02T08:00:00Z"))
  })

  test("a claim tries only free, running services of its shape on usable nodes", () => {
    const w = warmServices(
      [
        service("ok", free),
        service("other-shape", { ...free, [LABEL.spec]: "fp2" }),
        service("starting", free),
        service("node-down", free),
        service("drained", free),
        service("claimed", { [WARM_LABEL]: "claimed" }),
        service("no-task", free)
      ],
      [
        task("ok", "n1"),
        task("other-shape", "n1"),
        task("starting", "n1", "preparing"),
        task("node-down", "n2"),
        task("drained", "n3"),
        task("claimed", "n1")
      ],
      [node("n1"), node("n2", "down"), node("n3", "ready", "drain")]
    )
    expect(claimOrder(w, "fp", Math.random).map((x) => x.id)).toEqual(["ok"])
  })

  test("with --node, only that node's warm services", () => {
    const w = warmServices([service("a", free), service("b", free)], [task("a", "n1"), task("b", "n2")], [node("n1"), node("n2")])
    expect(claimOrder(w, "fp", Math.random, "h-n2").map((x) => x.id)).toEqual(["b"])
    expect(claimOrder(w, "fp", Math.random, "h-n3")).toEqual([])
  })

  test("the order is a shuffle: every candidate once, different orders for different draws", () => {
    const ids = ["a", "b", "c", "d", "e"]
    const w = warmServices(ids.map((id) => service(id, free)), ids.map((id) => task(id, "n1")), [node("n1")])
    const firsts = new Set<string>()
    let seed = 1
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646
    for (let i = 0; i < 50; i++) {
      const order = claimOrder(w, "fp", random).map((x) => x.id)
      expect([...order].sort()).toEqual(ids)
      firsts.add(order[0]!)
    }
    expect(firsts.size).toBeGreaterThan(2)
  })

  test("the claim changes only the service's labels, keeping every other field and label", () => {
    const s = service("a", { ...free, other: "kept" })
    const claimed = claimedSpec(s.Spec, "s1")
    expect(claimed.TaskTemplate).toBe(s.Spec.TaskTemplate)
    expect(claimed.Name).toBe(s.Spec.Name)
    expect(claimed.Labels).toEqual({ ...s.Spec.Labels, [WARM_LABEL]: "claimed", [LABEL.role]: "worker", [LABEL.session]: "s1" })
    expect(s.Spec.Labels?.[WARM_LABEL]).toBe("free")
  })

  test("the pool plan replaces a warm worker whose node went down, after its starting grace", () => {
    const w = warmServices([service("a", free), service("b", free)], [task("a", "n1"), task("b", "n2")], [node("n1"), node("n2", "down")])
    const observed = w.map(asObservedWarm)
    expect(observed.map((o) => o.running)).toEqual([true, false])
    const actions = planPool(observed, ["/p"], { target: 2, max: 4, idleTimeoutMs: 300_000, nowMs: Date.parse("2026-12-02T09:00:00Z") })
    expect(actions).toEqual([
      { _tag: "remove", id: "b", slot: "b", reason: "dead" },
      { _tag: "create", project: "/p" }
    ])
  })
})

describe("the swarm section of docs/BENCHMARKS.md", () => {
  const section = (body: string) => `${SWARM_BEGIN}\n${body}\n${SWARM_END}`
  test("appended when the file has none, replaced in place when it has one, the rest untouched", () => {
    const doc = "# Benchmarks\n\n| a | b |\n"
    const once = withSwarmSection(doc, section("one"))
    expect(once).toBe(`# Benchmarks\n\n| a | b |\n\n${section("one")}\n`)
    const twice = withSwarmSection(`${once}## After\n`, section("two $& $1"))
    expect(twice).toBe(`# Benchmarks\n\n| a | b |\n\n${section("two $& $1")}\n## After\n`)
  })
  test("make bench's rewrite keeps the section it finds; none found, none added", () => {
    const old = `# Old\n\n${section("kept")}\n`
    expect(withSwarmSection("# New\n", swarmSectionOf(old))).toBe(`# New\n\n${section("kept")}\n`)
    expect(withSwarmSection("# New\n", swarmSectionOf("# Old\n"))).toBe("# New\n")
  })
})

describe("the pool manager's removal of a warm service", () => {
  test("is a claim of its own: a reaping service is neither free nor a session", () => {
    const s = service("a", free)
    const reaping = { ...s, Spec: reapingSpec(s.Spec) }
    const [w] = warmServices([reaping], [task("a", "n1")], [node("n1")])
    expect(w!.state).toBe("reaping")
    expect(claimOrder([w!], "fp", Math.random)).toEqual([])
    expect(w!.spec.TaskTemplate).toBe(s.Spec.TaskTemplate)
  })
})

describe("pool status on a swarm", () => {
  test("each warm service with its node; one whose node is down says so", () => {
    const w = warmServices(
      [service("a", free), service("b", free), service("c", { [WARM_LABEL]: "claimed", [LABEL.session]: "s1" }), service("d", free)],
      [task("a", "n1"), task("b", "n2"), task("c", "n1"), task("d", "n1", "preparing")],
      [node("n1"), node("n2", "down")]
    ).map(statusWorker)
    expect(w.map((x) => [x.name, x.node, x.running, x.claimedBy, x.stateText])).toEqual([
      ["i-warm-a", "h-n1", true, undefined, undefined],
      ["i-warm-b", "h-n2", false, undefined, "node h-n2 down"],
      ["i-warm-c", "h-n1", true, "s1", undefined],
      ["i-warm-d", "h-n1", false, undefined, "preparing"]
    ])
  })
})

describe("the swarm bench's baseline", () => {
  test("docker service create flags for the very spec claudy made, without the stdin hand-off", () => {
    const args = serviceCreateArgs(
      {
        Labels: { a: "1" },
        TaskTemplate: {
          ContainerSpec: {
            Image: "sha256:abc",
            Labels: { a: "1" },
            User: "1000:1000",
            Dir: "/workspace",
            Env: ["CLAUDY_HANDOFF=stdin", "X=1"],
            TTY: true,
            Mounts: [
              { Type: "bind", Source: "/p", Target: "/workspace" },
              { Type: "volume", Source: "v", Target: "/data", ReadOnly: true, VolumeOptions: { NoCopy: false, Labels: { l: "2" } } },
              { Type: "tmpfs", Target: "/home/claude", TmpfsOptions: { Mode: 0o1777 } }
            ],
            CapabilityDrop: ["ALL"]
          },
          Resources: { Limits: { MemoryBytes: 1024, NanoCPUs: 1.5e9, Pids: 100 } },
          RestartPolicy: { Condition: "none", MaxAttempts: 0 },
          Placement: { Constraints: ["node.labels.x==y"], Preferences: [{ Spread: { SpreadDescriptor: "node.labels.e" } }] },
          Networks: [{ Target: "net1" }]
        },
        EndpointSpec: { Mode: "dnsrr" }
      },
      "base-1",
      { s: "base-1" },
      ["sh", "-c", "true"]
    )
    expect(args).toEqual([
      "--detach", "--no-resolve-image", "--name", "base-1",
      "--label", "a=1", "--label", "s=base-1", "--container-label", "a=1", "--container-label", "s=base-1",
      "--user", "1000:1000", "--workdir", "/workspace", "--env", "X=1", "--tty",
      "--mount", "type=bind,source=/p,target=/workspace",
      "--mount", "type=volume,source=v,target=/data,readonly,volume-nocopy=false,volume-label=l=2",
      "--mount", "type=tmpfs,target=/home/claude,tmpfs-mode=1777",
      "--cap-drop", "ALL", "--limit-memory", "1024b", "--limit-cpu", "1.5", "--limit-pids", "100",
      "--restart-condition", "none", "--restart-max-attempts", "0",
      "--constraint", "node.labels.x==y", "--placement-pref", "spread=node.labels.e", "--network", "net1", "--endpoint-mode", "dnsrr",
      "sha256:abc", "sh", "-c", "true"
    ])
  })
})
