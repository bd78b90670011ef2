/** The shipped executable itself: version, help on every command, exit codes, what it refuses to read. */
import { afterAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { entries } from "../../src/cli/manual.ts"
import { fullTree } from "../../src/cli/root.ts"
import { CLAUDY, docker, ROOT, run, sandbox } from "../support/harness.ts"

// Every command of the tree (src/cli/manual.ts walks it): a new command is covered without being listed here.
const COMMANDS = entries(await fullTree()).map((e) => e.path.slice(1))

describe("dist/claudy", () => {
  test("--version prints the version and the git commit it was built from", async () => {
    const pkg = await Bun.file(join(ROOT, "package.json")).json()
    const commit = (await run(["git", "rev-parse", "--short=12", "HEAD"])).stdout.trim()
    const r = await run([CLAUDY, "--version"])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(`${pkg.version} (commit ${commit})`)
  })

  test.each(COMMANDS.map((c) => [c.join(" ") || "(root)", c]))("%s --help", async (_name, args) => {
    const r = await run([CLAUDY, ...args, "--help"])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("USAGE")
    // the usage line names the full path: "$ claudy daemon start [--recreate] …"
    expect(r.stdout).toContain(`$ ${["claudy", ...args].join(" ")}`)
  })

  test("colour only at a terminal without NO_COLOR: help and parse errors through a pipe or with NO_COLOR have none", async () => {
    const ESC = "\u001b["
    expect((await run([CLAUDY, "--help"])).stdout).not.toContain(ESC)
    const bad = await run([CLAUDY, "daemon", "status", "--bogus"])
    expect(bad.stdout + bad.stderr).toContain("--bogus")
    expect(bad.stdout + bad.stderr).not.toContain(ESC)
    // at a terminal (script gives the command one), @effect/cli's colours stay, unless NO_COLOR or TERM=dumb
    const atTerminal = (env: Record<string, string>) => run(["script", "-qec", `${CLAUDY} --help`, "/dev/null"], env)
    expect((await atTerminal({})).stdout).toContain(ESC)
    expect((await atTerminal({ NO_COLOR: "1" })).stdout).not.toContain(ESC)
    expect((await atTerminal({ TERM: "dumb" })).stdout).not.toContain(ESC)
  })

  test("the guide's spawn form has help too", async () => {
    const r = await run([CLAUDY, "--via-parent", "--help"])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("--via-parent")
    expect(r.stdout).toContain("--pids-limit")
  })

  test("an unknown flag or subcommand is a usage error (exit 2)", async () => {
    for (const args of [["config", "--bogus"], ["sessions", "list", "--bogus"], ["spawn", "--bogus"], ["--bogus"]]) {
      expect((await run([CLAUDY, ...args])).code).toBe(2)
    }
    const flag = await run([CLAUDY, "daemon", "status", "--bogus"])
    expect(flag.code).toBe(2)
    expect(flag.stdout + flag.stderr).toContain("--bogus")
    const sub = await run([CLAUDY, "daemon", "explode"])
    expect(sub.code).toBe(2)
  })

  test("never reads .env or bunfig.toml from the user's working directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "claudy-cwd-"))
    try {
      writeFileSync(join(dir, ".env"), "CHROMADB_PORT=abc\nHAL9000_INSTANCE=fromdotenv\n")
      writeFileSync(join(dir, "evil.ts"), `require("fs").writeFileSync(${JSON.stringify(join(dir, "PRELOADED"))}, "x")\n`)
      writeFileSync(join(dir, "bunfig.toml"), `preload = ["./evil.ts"]\n[run]\npreload = ["./evil.ts"]\n`)
      const r = await run([CLAUDY, "config", "--json"], {}, dir)
      expect(r.code).toBe(0)
      const cfg = JSON.parse(r.stdout)
      expect(cfg.CHROMADB_PORT).toEqual({ value: "8000", source: "default" })
      expect(cfg.HAL9000_INSTANCE.value).toBe("hal9000")
      expect(existsSync(join(dir, "PRELOADED"))).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("config shows each value's source: default, env, flag; secrets redacted", async () => {
    const r = await run([CLAUDY, "config", "--json", "--set", "WORKER_CPUS=3"], {
      CHROMADB_PORT: "8123",
      ANTHROPIC_API_KEY: "sk-ant-secret-value"
    })
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain("sk-ant-secret-value")
    const cfg = JSON.parse(r.stdout)
    expect(cfg.CHROMADB_PORT).toEqual({ value: "8123", source: "env" })
    expect(cfg.WORKER_CPUS).toEqual({ value: "3", source: "flag" })
    expect(cfg.IDLE_TIMEOUT).toEqual({ value: "300", source: "default" })
    expect(cfg.ANTHROPIC_API_KEY).toEqual({ value: "(set, redacted)", source: "env" })
    const text = await run([CLAUDY, "config"], { HAL9000_HOME: "/srv/hal" })
    expect(text.stdout).toMatch(/HAL9000_HOME\s+\/srv\/hal\s+env/)
  })

  test("--json errors carry the same facts", async () => {
    const r = await run([CLAUDY, "daemon", "status", "--json"], { CHROMADB_PORT: "abc" })
    expect(r.code).toBe(2)
    const e = JSON.parse(r.stdout).error
    expect(e.tag).toBe("ConfigInvalid")
    expect(e.exitCode).toBe(2)
    expect(e.message).toContain("CHROMADB_PORT")
    expect(e.hint).toContain("CHROMADB_PORT")
  })

  test("HAL9000_LOG_LEVEL=debug shows each Docker call with its duration; HAL9000_LOG_FORMAT=json logs JSON", async () => {
    const b = await sandbox({ HAL9000_LOG_LEVEL: "debug" })
    try {
      const r = await b.claudy(["daemon", "status"])
      const call = r.stderr.split("\n").find((l) => l.startsWith("claudy debug: docker inspect container"))!
      expect(call).toMatch(/ ms=\d+/)
      expect(call).toContain(`path=/containers/${b.instance}-parent/json`)
      expect(call).toContain("status=404")
      const j = await b.claudy(["daemon", "status"], { HAL9000_LOG_FORMAT: "json" })
      const line = j.stderr.split("\n").find((l) => l.includes("inspect container"))!
      expect(JSON.parse(line)).toMatchObject({ logLevel: "DEBUG", message: "docker inspect container" })
      const quiet = await b.claudy(["daemon", "status"], { HAL9000_LOG_LEVEL: "error" })
      expect(quiet.stderr).toBe("")
    } finally {
      await b.cleanup()
    }
  })

  test("flake.nix parses", async () => {
    const r = await run(["nix-instantiate", "--parse", join(ROOT, "flake.nix")])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
  })
})

describe("claudy images", () => {
  const tag = `claudy-test-image-${process.pid}:parent`
  afterAll(async () => {
    await docker("rmi", "-f", tag)
  })

  test("dockerfile prints the embedded recipe with the base image as a build argument", async () => {
    const r = await run([CLAUDY, "images", "dockerfile", "parent"])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("ARG BASE_IMAGE=debian:trixie-slim")
    expect(r.stdout).toContain("chromadb@")
    expect(r.stdout).toContain("chroma run --host")
    const w = await run([CLAUDY, "images", "dockerfile", "worker"])
    expect(w.stdout).toContain("@anthropic-ai/claude-code@")
    expect(w.stdout).toContain("USER claude")
    expect(w.stdout).toContain('CMD ["claude"]')
  })

  test("build shows progress, labels the image, and reuses an identical one", async () => {
    const b = await sandbox({ PARENT_IMAGE: tag })
    try {
      const certs = readdirSync("/usr/local/share/ca-certificates")
        .filter((f) => f.endsWith(".crt"))
        .flatMap((f) => ["--ca-cert", `/usr/local/share/ca-certificates/${f}`])
      const first = await b.claudy(["images", "build", "parent", "--base", "claudy-base:trixie", ...certs])
      expect(first.code).toBe(0)
      expect(first.stderr).toContain("parent: Step")
      expect(first.stdout).toContain(`parent: ${tag} built`)
      const img = JSON.parse((await docker("image", "inspect", tag)).stdout)[0]
      expect(img.Config.Labels["io.hal9000.managed"]).toBe("true")
      expect(img.Config.Labels["io.hal9000.dockerfile"]).toMatch(/^[0-9a-f]{16}$/)
      const second = await b.claudy(["images", "build", "parent", "--base", "claudy-base:trixie", ...certs])
      expect(second.code).toBe(0)
      expect(second.stdout).toContain(`parent: ${tag} reused`)
    } finally {
      await b.cleanup()
    }
  })

  test("a missing CA file is refused before any build", async () => {
    const r = await run([CLAUDY, "images", "build", "parent", "--ca-cert", "/nonexistent/ca.crt"])
    expect(r.code).toBe(2)
    expect(r.stdout + r.stderr).toContain("/nonexistent/ca.crt")
  })
})
