import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { resolveSettings } from "../../src/config/variables.ts"
import { LABEL } from "../../src/domain/labels.ts"
import { noNewPrivsOf, swapKbOf } from "../../src/swarm/doctor.ts"
import { parseProbe, probeScript } from "../../src/swarm/parentProbe.ts"
import { parentServiceDifferences, parentServiceSpec, swarmChromaUrl } from "../../src/swarm/parentSpec.ts"

const settings = (env: Record<string, string> = {}) => {
  const r = resolveSettings({ env })
  if (Either.isLeft(r)) throw r.left
  return r.right.settings
}
const owner = { instance: "hal9000", home: "abc123abc123" }

describe("the parent's service spec on a swarm", () => {
  test("one replica, pinned by the holder label, on the instance's network, dnsrr, nothing published, labelled", () => {
    const spec = parentServiceSpec(settings(), owner, "0.1.0", "sha256:1")
    const body = spec.body(1) as any
    expect(body.Name).toBe("hal9000-parent")
    expect(body.Mode).toEqual({ Replicated: { Replicas: 1 } })
    expect(spec.body(0)).toMatchObject({ Mode: { Replicated: { Replicas: 0 } } })
    expect(body.EndpointSpec).toEqual({ Mode: "dnsrr" })
    expect(body.TaskTemplate.Placement.Constraints).toEqual(["node.labels.io.hal9000.parent.hal9000==true"])
    expect(body.TaskTemplate.Networks).toEqual([{ Target: "hal9000-net" }])
    expect(body.TaskTemplate.RestartPolicy.Condition).toBe("any")
    expect(body.TaskTemplate.ContainerSpec.Image).toBe("sha256:1")
    expect(body.TaskTemplate.ContainerSpec.StopSignal).toBe("SIGINT")
    expect(body.TaskTemplate.ContainerSpec.Mounts.map((m: any) => [m.Source, m.Target])).toEqual([
      ["hal9000-chromadb", "/data/chromadb"],
      ["hal9000-memorybank", "/data/membank"],
      ["hal9000-plugins", "/data/plugins"]
    ])
    for (const labels of [body.Labels, body.TaskTemplate.ContainerSpec.Labels]) {
      expect(labels[LABEL.managed]).toBe("true")
      expect(labels[LABEL.instance]).toBe("hal9000")
      expect(labels[LABEL.spec]).toBe(spec.fingerprint)
    }
    expect(JSON.stringify(body)).not.toContain("ANTHROPIC")
    expect(swarmChromaUrl("hal9000", 8000)).toBe("http://hal9000-parent:8000")
  })

  test("differences: none for the same spec; the image, the parent's settings, placement and network by name or id", () => {
    const spec = parentServiceSpec(settings(), owner, "0.1.0", "sha256:1")
    const same = spec.body(1) as any
    expect(parentServiceDifferences(spec, same, "ghcr.io/hellblazer/hal-9000:parent")).toEqual([])
    // the engine keeps the network by id: an older fingerprint with the same parts is the same parent
    const byId = { ...same, Labels: { ...same.Labels, [LABEL.spec]: "old" }, TaskTemplate: { ...same.TaskTemplate, Networks: [{ Target: "netid" }] } }
    expect(parentServiceDifferences(spec, byId, "ghcr.io/hellblazer/hal-9000:parent", "netid")).toEqual([])
    const other = parentServiceSpec(settings({ CHROMADB_PORT: "8080" }), owner, "0.1.0", "sha256:2")
    expect(parentServiceDifferences(other, same, "ghcr.io/hellblazer/hal-9000:parent")).toEqual([
      "image ghcr.io/hellblazer/hal-9000:parent was rebuilt since the parent was created",
      "CHROMADB_PORT 8000 -> 8080"
    ])
    const moved = { ...same, Labels: { ...same.Labels, [LABEL.spec]: "old" }, TaskTemplate: { ...same.TaskTemplate, Placement: {}, Networks: [] } }
    expect(parentServiceDifferences(spec, moved, "ghcr.io/hellblazer/hal-9000:parent")).toEqual([
      "placement -> node.labels.io.hal9000.parent.hal9000==true",
      "network -> hal9000-net"
    ])
  })
})

describe("ChromaDB's probe inside the parent's task", () => {
  test("reads the heartbeat's status and time, then the version", () => {
    expect(probeScript("http://p:8000")).toContain("http://p:8000/api/v2/heartbeat")
    expect(parseProbe(0, '200 0.002134\n"1.0.0"')).toEqual({ ok: true, ms: 2.1, version: "1.0.0" })
    expect(parseProbe(0, "200 0.0021\n")).toEqual({ ok: true, ms: 2.1 })
  })
  test("a refused connection, an HTTP error or no answer is a failed heartbeat with the reason", () => {
    expect(parseProbe(0, "curl: (7) Failed to connect to p port 8000: Connection refused\n000 0.000698\n")).toMatchObject({
      error: "Failed to connect to p port 8000: Connection refused"
    })
    expect(parseProbe(7, "000 0.000\ncurl: (7) Failed to connect to p port 8000: Connection refused")).toEqual({
      ok: false,
      ms: 0,
      error: "Failed to connect to p port 8000: Connection refused"
    })
    expect(parseProbe(0, "503 0.01")).toMatchObject({ ok: false, error: "HTTP 503" })
    expect(parseProbe(126, "")).toEqual({ ok: false, ms: 0, error: "probe exited 126" })
  })
})

describe("no-new-privileges on a node", () => {
  test("NoNewPrivs from /proc/self/status", () => {
    expect(noNewPrivsOf("Name:\tcat\nNoNewPrivs:\t1\nSeccomp:\t2\n")).toBe("1")
    expect(noNewPrivsOf("NoNewPrivs:\t0\n")).toBe("0")
    expect(noNewPrivsOf("Name:\tcat\n")).toBeUndefined()
  })
  test("swap from /proc/meminfo", () => {
    expect(swapKbOf("MemTotal:        8000000 kB\nSwapTotal:       2097148 kB\nSwapFree: 1 kB\n")).toBe(2097148)
    expect(swapKbOf("SwapTotal:             0 kB\n")).toBe(0)
    expect(swapKbOf("MemTotal: 1 kB\n")).toBeUndefined()
  })
})
