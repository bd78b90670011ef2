import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { resolveSettings } from "../../src/config/variables.ts"
import { parentDifferences, parentSpec } from "../../src/daemon/parentSpec.ts"
import { LABEL } from "../../src/domain/labels.ts"
import type { ContainerInspect } from "../../src/docker/types.ts"

const settings = (env: Record<string, string> = {}) => {
  const r = resolveSettings({ env })
  if (Either.isLeft(r)) throw r.left
  return r.right.settings
}
const owner = { instance: "hal9000", home: "abc123abc123" }

const asInspect = (spec: ReturnType<typeof parentSpec>, imageId: string): ContainerInspect => {
  const body = spec.createBody as any
  return {
    Id: "x",
    Name: `/${spec.name}`,
    Image: imageId,
    Created: "",
    State: { Status: "running", Running: true },
    Config: { Image: body.Image, Env: body.Env, Labels: body.Labels },
    HostConfig: { PortBindings: body.HostConfig.PortBindings }
  }
}

describe("parent spec", () => {
  test("publishes ChromaDB on loopback only, with restart policy, labels and the three volumes", () => {
    const spec = parentSpec(settings(), owner, "0.1.0", "sha256:1")
    const body = spec.createBody as any
    expect(spec.name).toBe("hal9000-parent")
    expect(body.HostConfig.PortBindings).toEqual({ "8000/tcp": [{ HostIp: "127.0.0.1", HostPort: "8000" }] })
    expect(body.HostConfig.RestartPolicy.Name).toBe("unless-stopped")
    expect(body.HostConfig.Mounts).toEqual([
      { Type: "volume", Source: "hal9000-chromadb", Target: "/data/chromadb" },
      { Type: "volume", Source: "hal9000-memorybank", Target: "/data/membank" },
      { Type: "volume", Source: "hal9000-plugins", Target: "/data/plugins" }
    ])
    expect(body.Labels[LABEL.managed]).toBe("true")
    expect(body.Labels[LABEL.role]).toBe("parent")
    expect(body.Labels[LABEL.spec]).toBe(spec.fingerprint)
    expect(body.Env).toContain("CHROMADB_PORT=8000")
    expect(body.Env).toContain("CHROMADB_HOST=0.0.0.0")
    expect(body.Env).toContain("CHROMADB_DATA_DIR=/data/chromadb")
  })

  test("never puts the API key in the parent's environment", () => {
    const spec = parentSpec(settings({ ANTHROPIC_API_KEY: "sk-secret" }), owner, "0.1.0", "sha256:1")
    expect(JSON.stringify(spec.createBody)).not.toContain("sk-secret")
  })

  test("the same settings give the same fingerprint and no differences", () => {
    const a = parentSpec(settings(), owner, "0.1.0", "sha256:1")
    const b = parentSpec(settings(), owner, "0.1.0", "sha256:1")
    expect(a.fingerprint).toBe(b.fingerprint)
    expect(parentDifferences(b, asInspect(a, "sha256:1"), "sha256:1")).toEqual([])
  })

  test("a changed port is reported as a difference", () => {
    const old = parentSpec(settings(), owner, "0.1.0", "sha256:1")
    const wanted = parentSpec(settings({ CHROMADB_PORT: "8080" }), owner, "0.1.0", "sha256:1")
    const diff = parentDifferences(wanted, asInspect(old, "sha256:1"), "sha256:1")
    expect(diff).toContain("CHROMADB_PORT 8000 -> 8080")
    expect(diff.some((d) => d.startsWith("published port"))).toBe(true)
  })

  test("a rebuilt image is reported", () => {
    const old = parentSpec(settings(), owner, "0.1.0", "sha256:1")
    const wanted = parentSpec(settings(), owner, "0.1.0", "sha256:2")
    expect(parentDifferences(wanted, asInspect(old, "sha256:1"), "sha256:2")).toEqual([
      "image ghcr.io/hellblazer/hal-9000:parent was rebuilt since the parent was created"
    ])
  })
})

describe("what the parent's fingerprint covers", () => {
  test("worker and pool settings never make the parent differ (the guide's recipes on a running parent)", () => {
    const base = parentSpec(settings(), owner, "0.1.0", "sha256:1")
    const recipes = [
      { WORKER_MEMORY: "8g", WORKER_CPUS: "4", WORKER_PIDS_LIMIT: "200" },
      { ENABLE_POOL_MANAGER: "true", MIN_WARM_WORKERS: "3", MAX_WARM_WORKERS: "6", IDLE_TIMEOUT: "60", CHECK_INTERVAL: "5" },
      { WORKER_IMAGE: "my/worker:2", SKIP_IMAGE_PULL: "true", LAZY_IMAGE_PULL: "true" }
    ]
    for (const env of recipes) {
      const spec = parentSpec(settings(env), owner, "0.1.0", "sha256:1")
      expect(spec.fingerprint).toBe(base.fingerprint)
      expect(parentDifferences(spec, asInspect(base, "sha256:1"), "sha256:1")).toEqual([])
    }
  })

  test("a parent made by an older claudy with worker settings in its environment is the same parent", () => {
    const spec = parentSpec(settings(), owner, "0.1.0", "sha256:1")
    const old = asInspect(spec, "sha256:1")
    const older = { ...old, Config: { ...old.Config, Env: [...(old.Config.Env ?? []), "WORKER_MEMORY=4g"], Labels: { ...old.Config.Labels, [LABEL.spec]: "0ld" } } }
    expect(parentDifferences(spec, older, "sha256:1")).toEqual([])
  })
})
