import { homedir } from "node:os"
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { resolveSettings, VARIABLES } from "../../src/config/variables.ts"

const resolve = (env: Record<string, string>, flags: Record<string, string> = {}) => resolveSettings({ env, flags })
const errorOf = (env: Record<string, string>) => {
  const r = resolve(env)
  if (Either.isRight(r)) throw new Error(`expected ${JSON.stringify(env)} to be rejected`)
  return r.left
}

describe("settings", () => {
  test("defaults match the user guide", () => {
    const r = resolve({})
    if (Either.isLeft(r)) throw r.left
    const s = r.right.settings
    expect(s.chromadbPort).toBe(8000)
    expect(s.chromadbHost).toBe("0.0.0.0")
    expect(s.chromadbDataDir).toBe("/data/chromadb")
    expect(s.workerImage).toBe("ghcr.io/hellblazer/hal-9000:worker")
    expect(s.minWarmWorkers).toBe(2)
    expect(s.maxWarmWorkers).toBe(5)
    expect(s.idleTimeout).toBe(300)
    expect(s.checkInterval).toBe(30)
    expect(s.workerMemory).toEqual({ raw: "4g", bytes: 4 * 1024 ** 3 })
    expect(s.workerCpus).toEqual({ raw: "2", nanoCpus: 2e9 })
    expect(s.workerPidsLimit).toBe(100)
    expect(s.chromadbStartTimeout).toBe(30)
    expect(s.skipImagePull).toBe(false)
    expect(s.home.endsWith("/.hal9000")).toBe(true)
    expect(r.right.sources.every((x) => x.source === "default")).toBe(true)
  })

  test("every variable of CONFIGURATION.md is known", () => {
    const names = Object.values(VARIABLES).map((v) => v.name)
    for (const n of [
      "HAL9000_HOME", "WORKER_IMAGE", "CHROMADB_HOST", "CHROMADB_PORT", "CHROMADB_DATA_DIR", "SKIP_IMAGE_PULL",
      "LAZY_IMAGE_PULL", "ENABLE_POOL_MANAGER", "MIN_WARM_WORKERS", "MAX_WARM_WORKERS", "IDLE_TIMEOUT",
      "CHECK_INTERVAL", "WORKER_MEMORY", "WORKER_CPUS", "WORKER_PIDS_LIMIT", "PARENT_IMAGE", "CHROMADB_START_TIMEOUT"
    ]) expect(names).toContain(n)
  })

  test("sources: env beats default, flag beats env", () => {
    const r = resolve({ CHROMADB_PORT: "8080", WORKER_CPUS: "1.5" }, { CHROMADB_PORT: "9000" })
    if (Either.isLeft(r)) throw r.left
    expect(r.right.settings.chromadbPort).toBe(9000)
    expect(r.right.settings.workerCpus.nanoCpus).toBe(1.5e9)
    const src = Object.fromEntries(r.right.sources.map((s) => [s.name, s.source]))
    expect(src.CHROMADB_PORT).toBe("flag")
    expect(src.WORKER_CPUS).toBe("env")
    expect(src.WORKER_MEMORY).toBe("default")
  })

  test.each([
    ["CHROMADB_PORT", "abc", "TCP port"],
    ["CHROMADB_PORT", "0", "TCP port"],
    ["CHROMADB_PORT", "70000", "TCP port"],
    ["CHROMADB_PORT", "", "TCP port"],
    ["CHROMADB_PORT", " 80", "TCP port"],
    ["CHROMADB_PORT", "8e3", "TCP port"],
    ["WORKER_MEMORY", "0", "512m"],
    ["WORKER_MEMORY", "-1", "512m"],
    ["WORKER_MEMORY", "lots", "512m"],
    ["WORKER_MEMORY", "", "512m"],
    ["WORKER_MEMORY", "4x", "512m"],
    ["WORKER_CPUS", "0", "CPUs"],
    ["WORKER_CPUS", "-1", "CPUs"],
    ["WORKER_CPUS", "", "CPUs"],
    ["WORKER_PIDS_LIMIT", "0", "processes"],
    ["WORKER_PIDS_LIMIT", "-1", "processes"],
    ["WORKER_PIDS_LIMIT", "1.5", "processes"],
    ["MIN_WARM_WORKERS", "-2", "whole number"],
    ["MAX_WARM_WORKERS", "0", "whole number"],
    ["IDLE_TIMEOUT", "", "seconds"],
    ["CHECK_INTERVAL", "0", "seconds"],
    ["CHROMADB_START_TIMEOUT", "soon", "seconds"],
    ["SKIP_IMAGE_PULL", "maybe", "true or false"],
    ["ENABLE_POOL_MANAGER", "", "true or false"],
    ["HAL9000_HOME", "", "absolute path"],
    ["HAL9000_HOME", "relative/dir", "absolute path"],
    ["HAL9000_INSTANCE", "Bad_Name", "lowercase"],
    ["CHROMADB_DATA_DIR", "/", "absolute path"],
    ["CHROMADB_DATA_DIR", "data", "absolute path"],
    ["WORKER_IMAGE", "", "image reference"],
    ["HAL9000_LOG_LEVEL", "loud", "one of"],
    ["DOCKER_HOST", "", "unix://"]
  ])("%s=%p is rejected naming the variable and the form", (variable, value, form) => {
    const e = errorOf({ [variable]: value })
    expect(e._tag).toBe("ConfigInvalid")
    expect(e.message).toContain(variable)
    expect(e.message).toContain(form)
  })

  test("MIN_WARM_WORKERS above MAX_WARM_WORKERS is a conflict naming both", () => {
    const e = errorOf({ MIN_WARM_WORKERS: "7", MAX_WARM_WORKERS: "5" })
    expect(e._tag).toBe("ConfigConflict")
    expect(e.message).toContain("MIN_WARM_WORKERS (7)")
    expect(e.message).toContain("MAX_WARM_WORKERS (5)")
  })

  test("~ in HAL9000_HOME expands to the user's home", () => {
    const r = resolve({ HAL9000_HOME: "~/state" })
    if (Either.isLeft(r)) throw r.left
    expect(r.right.settings.home.startsWith("/")).toBe(true)
    expect(r.right.settings.home.endsWith("/state")).toBe(true)
  })

  test("HAL9000_HOME is normalized as spelled out: ~//x is under the home, as in a shell; .. and a trailing / go", () => {
    const home = (raw: string) => Either.getOrThrow(resolve({ HAL9000_HOME: raw })).settings.home
    expect(home("~//state")).toBe(`${homedir()}/state`)
    expect(home("/srv/a/../b/")).toBe("/srv/b")
  })

  test("the API key is marked secret", () => {
    const r = resolve({ ANTHROPIC_API_KEY: "sk-test" })
    if (Either.isLeft(r)) throw r.left
    expect(r.right.sources.find((s) => s.name === "ANTHROPIC_API_KEY")?.secret).toBe(true)
  })
})

describe("Docker's TLS variables", () => {
  test.each(["DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH"])("%s with a tcp:// engine is refused by name", (name) => {
    const r = resolveSettings({ env: { DOCKER_HOST: "tcp://10.0.0.5:2376", [name]: name === "DOCKER_CERT_PATH" ? "/certs" : "1" } })
    expect(Either.isLeft(r) && r.left._tag).toBe("ConfigConflict")
    if (Either.isLeft(r) && r.left._tag === "ConfigConflict") {
      expect(r.left.variables).toEqual([name, "DOCKER_HOST"])
      expect(r.left.message).toContain(`${name} is set for DOCKER_HOST=tcp://10.0.0.5:2376`)
      expect(r.left.message).toContain("TLS is not supported yet")
    }
  })
  test("with a unix socket, or empty, they are ignored (as the docker CLI does)", () => {
    expect(Either.isRight(resolveSettings({ env: { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" } }))).toBe(true)
    expect(Either.isRight(resolveSettings({ env: { DOCKER_HOST: "tcp://10.0.0.5:2375", DOCKER_TLS_VERIFY: "" } }))).toBe(true)
  })
})
