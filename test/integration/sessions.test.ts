/**
 * Sessions the way Claude Code users work, on the real engine: a Claude home that persists (cold and warm, across
 * `sessions rm`, five concurrent writers), authentication in its order (environment, key file, kept login) without a
 * secret in docker inspect, logs or the debug bundle, one session per project, shell and stop --all, and profiles.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { docker, inspect, run, type Sandbox, sandboxWithParent, tracked, waitFor } from "../support/harness.ts"

const t = tracked()
let b: Sandbox

beforeAll(async () => {
  b = await sandboxWithParent(t)
})
afterAll(t.cleanup)

const project = (files: Record<string, string> = {}, owner = 1000) => {
  const d = t.tempDir("claudy-sess-project-", owner)
  for (const [f, content] of Object.entries(files)) writeFileSync(join(d, f), content)
  return d
}
const spawn = async (args: Array<string>, env: Record<string, string> = {}) => {
  const r = await b.claudy(["--via-parent", "-d", ...args], env)
  if (r.code !== 0) throw new Error(`spawn failed (${r.code}): ${r.stderr}`)
  return { name: r.stdout.trim(), stderr: r.stderr }
}
const logsOf = async (name: string) => (await b.claudy(["sessions", "logs", name])).stdout
const waitLog = (name: string, text: string, ms = 60_000) =>
  waitFor(`'${text}' in ${name}'s log`, async () => {
    const l = await logsOf(name)
    return l.includes(text) ? l : undefined
  }, ms)
const spawnsLog = () =>
  readFileSync(join(b.home, "pool", "spawns.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { session: string; served: string })

/** Prints the names of the user's MCP servers in the Claude home's .claude.json. */
const LIST_SERVERS = `node -e 'const j=JSON.parse(require("fs").readFileSync(process.env.CLAUDE_CONFIG_DIR+"/.claude.json"));console.log("servers="+Object.keys(j.mcpServers||{}).sort().join(","))'`
/**
 * Parses every JSON file under the Claude home (telemetry's are one event a line: each line); prints the count, or
 * fails on the first invalid one.
 */
const CHECK_JSON = `node -e 'const fs=require("fs"),p=require("path");let n=0;const walk=d=>{for(const e of fs.readdirSync(d,{withFileTypes:true})){const f=p.join(d,e.name);if(e.isDirectory())walk(f);else if(f.endsWith(".json")){const t=fs.readFileSync(f,"utf8");for(const doc of p.basename(d)==="telemetry"?t.split("\\n").filter(Boolean):[t])JSON.parse(doc);n++}}};walk(process.env.CLAUDE_CONFIG_DIR);console.log("valid-json="+n)'`

describe("the Claude home", () => {
  test("is a labelled volume at CLAUDE_CONFIG_DIR; a setting made in one session reaches the next, cold and warm, after sessions rm", async () => {
    const p1 = project()
    const a = await spawn(["--new", p1, "--", "sh", "-c", "claude mcp add -s user kept-server -- echo hi && echo added; sleep 300"])
    await waitLog(a.name, "added")
    const c = await inspect(`${b.instance}-worker-${a.name}`)
    expect(c.Config.Env).toContain("CLAUDE_CONFIG_DIR=/home/claude/.claude")
    const home = c.Mounts.find((m: any) => m.Destination === "/home/claude/.claude")
    expect(home).toMatchObject({ Type: "volume", Name: `${b.instance}-claude-home`, RW: true })
    const vol = JSON.parse((await docker("volume", "inspect", `${b.instance}-claude-home`)).stdout)[0]
    expect(vol.Labels).toMatchObject({ "io.hal9000.managed": "true", "io.hal9000.role": "volume", "io.hal9000.instance": b.instance })
    expect((await b.claudy(["sessions", "rm", "--force", a.name])).code).toBe(0)
    // given to uid 1000 once: the marker names the volume by the id label set at its creation, not by CreatedAt (the
    // directory's mtime, moved by every file Claude Code adds there), so the next spawns run no chown helper
    expect(readFileSync(join(b.home, "claude-home.owner"), "utf8")).toBe(`${vol.Labels["io.hal9000.volume-id"]} 1000:1000\n`)
    // from now on, to the ms (the engine takes seconds.nanoseconds): the first session's own helper, a second ago or
    // less on a fast machine, is not one of the next spawns'
    const since = (Date.now() / 1000).toFixed(3)

    // cold
    const cold = await spawn(["--new", p1, "--", "sh", "-c", `${LIST_SERVERS}; sleep 300`])
    // the user's server kept beside claudy's own (merged by the worker's entrypoint)
    expect(await waitLog(cold.name, "servers=")).toMatch(/servers=\S*kept-server/)

    // warm: the pool's worker for p2 has the same home
    const p2 = project()
    expect((await b.claudy(["pool", "warm", p2])).stdout).toContain("Created 1 warm worker")
    const warm = await spawn([p2, "--", "sh", "-c", `${LIST_SERVERS}; sleep 300`])
    expect(await waitLog(warm.name, "servers=")).toMatch(/servers=\S*kept-server/)
    expect(spawnsLog().find((s) => s.session === warm.name)?.served).toBe("warm")
    const helpers = await docker("events", "--since", since, "--until", String(Math.ceil(Date.now() / 1000)), "--filter", "type=container",
      "--filter", "event=create", "--filter", `label=io.hal9000.instance=${b.instance}`, "--filter", "label=io.hal9000.role=helper", "--format", "{{.Actor.Attributes.name}}")
    expect(helpers.code).toBe(0)
    expect(helpers.stdout.trim()).toBe("")
  })

  test("five sessions changing settings at once leave every file valid and every change kept", async () => {
    const p = project()
    const names = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        spawn(["--new", p, "--", "sh", "-c", `claude mcp add -s user concurrent-${i} -- echo ${i} && echo set-${i}; sleep 300`]).then((s) => s.name)
      )
    )
    await Promise.all(names.map((n, i) => waitLog(n, `set-${i + 1}`)))
    const check = await spawn(["--new", p, "--", "sh", "-c", `${CHECK_JSON}; ${LIST_SERVERS}; sleep 300`])
    const out = await waitLog(check.name, "servers=")
    expect(out).toMatch(/valid-json=[1-9]/)
    for (const i of [1, 2, 3, 4, 5]) expect(out).toContain(`concurrent-${i}`)
  })

  test("a worker of another uid gets a Claude home of its own; the first uid keeps the instance's", async () => {
    const p = project({}, 1234)
    const s = await spawn(["--new", p, "--", "sh", "-c", `id -u; touch "$CLAUDE_CONFIG_DIR/by-1234" && echo wrote; ${LIST_SERVERS}; sleep 300`])
    const out = await waitLog(s.name, "servers=")
    expect(out).toMatch(/1234\r?\nwrote/)
    // claudy's servers are registered in it, the first uid's own server is not there: another user's settings
    expect(out).toMatch(/servers=\S*chroma/)
    expect(out).not.toContain("kept-server")
    const c = await inspect(`${b.instance}-worker-${s.name}`)
    expect(c.Mounts.find((m: any) => m.Destination === "/home/claude/.claude")?.Name).toBe(`${b.instance}-claude-home-1234`)
    expect(readFileSync(join(b.home, "claude-home-1234.owner"), "utf8")).toMatch(/ 1234:1234\n$/)
    // the instance's home is still uid 1000's, and does not have what 1234 wrote
    const again = await spawn(["--new", project(), "--", "sh", "-c", `stat -c owner=%u "$CLAUDE_CONFIG_DIR"; ls "$CLAUDE_CONFIG_DIR/by-1234" 2>&1; ${LIST_SERVERS}; sleep 300`])
    const first = await waitLog(again.name, "servers=")
    expect(first).toContain("owner=1000")
    expect(first).toContain("No such file")
    expect(first).toMatch(/servers=\S*kept-server/)
  })
})

describe("authentication", () => {
  const keyFile = () => join(b.home, "secrets", "anthropic_key")
  const writeKey = (key: string, mode: number) => {
    mkdirSync(join(b.home, "secrets"), { recursive: true, mode: 0o700 })
    writeFileSync(keyFile(), `${key}\n`)
    chmodSync(keyFile(), mode)
  }

  test("a key file others may read is refused with the fix, before anything is created", async () => {
    writeKey("sk-ant-readable-0000", 0o644)
    const p = project()
    const r = await b.claudy(["--via-parent", "-d", p, "--", "true"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`the API key file ${keyFile()} is refused: its mode is 0644`)
    expect(r.stderr).toContain("chmod 0400")
    const status = await b.claudy(["auth", "status", "--json"])
    expect(status.code).toBe(2)
    const doctor = await b.claudy(["doctor"])
    expect(doctor.code).toBe(1)
    expect(doctor.stdout).toMatch(/FAIL\s+credentials\s+the API key file .* is refused: its mode is 0644/)
    expect((await docker("ps", "-aq", "--filter", `label=io.hal9000.project=${p}`)).stdout.trim()).toBe("")
  })

  test("the key file's key reaches the worker as a 0400 file; the environment's key comes first; neither is in inspect, logs or the bundle", async () => {
    const fileKey = `sk-ant-file-${Date.now()}`
    writeKey(fileKey, 0o400)
    const status = JSON.parse((await b.claudy(["auth", "status", "--json"])).stdout)
    expect(status).toMatchObject({ source: "file", api_key_file: keyFile() })
    expect(JSON.stringify(status)).not.toContain(fileKey)

    const p = project()
    const s = await spawn(["--new", p, "--", "sh", "-c", 'stat -c "%a %U" "$ANTHROPIC_API_KEY_FILE"; echo "len=${#ANTHROPIC_API_KEY}"; sleep 300'])
    const log = await waitLog(s.name, "len=")
    expect(log).toContain("400 claude")
    expect(log).toContain(`len=${fileKey.length}`)
    expect((await docker("inspect", `${b.instance}-worker-${s.name}`)).stdout).not.toContain(fileKey)

    const envKey = "sk-ant-env-12345"
    const e = await spawn(["--new", p, "--", "sh", "-c", 'echo "len=${#ANTHROPIC_API_KEY}"; sleep 300'], { ANTHROPIC_API_KEY: envKey })
    expect(await waitLog(e.name, "len=")).toContain(`len=${envKey.length}`)
    expect(JSON.parse((await b.claudy(["auth", "status", "--json"], { ANTHROPIC_API_KEY: envKey })).stdout).source).toBe("env")

    const out = join(t.tempDir("claudy-sess-bundle-"), "bundle.tar.gz")
    expect((await b.claudy(["debug-bundle", "-o", out])).code).toBe(0)
    const all = (await run(["tar", "xzOf", out])).stdout
    expect(all).toContain('"api_key_source": "file"')
    expect(all).not.toContain(fileKey)
  })

  test("without a key, the login kept in the Claude home is the source, and its token shows nowhere", async () => {
    const { rmSync } = await import("node:fs")
    rmSync(keyFile(), { force: true })
    const token = `sk-ant-oat01-fake-${Date.now()}`
    const credentials = JSON.stringify({
      claudeAiOauth: { accessToken: token, refreshToken: `${token}-r`, expiresAt: 4102444800000, scopes: ["user:inference"], subscriptionType: "pro" }
    })
    const p = project()
    // what Claude Code's own login leaves in its config directory
    const s = await spawn(["--new", p, "--", "sh", "-c", `printf '%s' '${credentials}' > "$CLAUDE_CONFIG_DIR/.credentials.json" && chmod 600 "$CLAUDE_CONFIG_DIR/.credentials.json" && echo saved; sleep 300`])
    await waitLog(s.name, "saved")
    const r = await b.claudy(["auth", "status", "--json"])
    expect(r.code).toBe(0)
    const status = JSON.parse(r.stdout)
    expect(status).toMatchObject({ source: "login", claude_home: `${b.instance}-claude-home`, login: { persisted: true, method: "claude.ai", subscription: "pro" } })
    const text = await b.claudy(["auth", "status"])
    expect(text.stdout).toContain("the login kept in the Claude home")
    expect(`${r.stdout}${r.stderr}${text.stdout}${text.stderr}`).not.toContain(token)

    const next = await spawn(["--new", p, "--", "sh", "-c", 'test -s "$CLAUDE_CONFIG_DIR/.credentials.json" && echo login-kept; sleep 300'])
    expect(await waitLog(next.name, "login-kept")).not.toContain(token)
    expect(next.stderr).toContain("ANTHROPIC_API_KEY is not set")
    expect((await docker("inspect", `${b.instance}-worker-${next.name}`)).stdout).not.toContain(token)
    const out = join(t.tempDir("claudy-sess-bundle-"), "bundle.tar.gz")
    expect((await b.claudy(["debug-bundle", "-o", out])).code).toBe(0)
    expect((await run(["tar", "xzOf", out])).stdout).not.toContain(token)
  })
})

describe("one session per project", () => {
  test("the name comes from the real path; a running session is reported (detached), --new starts another, an ended one is replaced", async () => {
    const p = project()
    const first = await spawn([p, "--", "sleep", "300"])
    const base = p.split("/").pop()!.toLowerCase().replace(/[^a-z0-9-]+/g, "-")
    expect(first.name).toMatch(new RegExp(`^${base}-[0-9a-f]{8}$`))
    const id = (await inspect(`${b.instance}-worker-${first.name}`)).Id

    // via a symlink too: the real path decides
    const link = join(t.tempDir("claudy-sess-link-"), "here")
    await run(["ln", "-s", p, link])
    const again = await b.claudy(["--via-parent", "-d", link, "--", "sleep", "300"])
    expect(again.code).toBe(0)
    expect(again.stdout.trim()).toBe(first.name)
    expect(again.stderr).toContain(`session ${first.name} already runs for ${p}: not starting another`)
    expect((await inspect(`${b.instance}-worker-${first.name}`)).Id).toBe(id)

    const beside = await spawn(["--new", p, "--", "sleep", "300"])
    expect(beside.name).toMatch(new RegExp(`^${first.name}-[a-z0-9]{4}$`))

    expect((await b.claudy(["sessions", "stop", first.name])).code).toBe(0)
    const replaced = await spawn([p, "--", "sh", "-c", "echo replaced; sleep 300"])
    expect(replaced.name).toBe(first.name)
    expect(replaced.stderr).toContain("starting a new one under the same name")
    await waitLog(first.name, "replaced")
    expect((await inspect(`${b.instance}-worker-${first.name}`)).Id).not.toBe(id)
  })

  test("concurrent spawns of one project start one session: every one prints its name, exit 0", async () => {
    const p = project()
    const results = await Promise.all([0, 1, 2, 3].map(() => b.claudy(["--via-parent", "-d", p, "--", "sleep", "300"])))
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0])
    expect(new Set(results.map((r) => r.stdout.trim())).size).toBe(1)
    expect(results.filter((r) => r.stderr.includes("already runs")).length).toBe(3)
    const workers = (await docker("ps", "-aq", "--filter", `label=io.hal9000.project=${p}`)).stdout.trim().split("\n").filter(Boolean)
    expect(workers).toHaveLength(1)
  })

  test("the warm pool serves a project's first spawn", async () => {
    const p = project()
    await b.claudy(["pool", "warm", p])
    const s = await spawn([p, "--", "sleep", "300"])
    expect(spawnsLog().find((e) => e.session === s.name)?.served).toBe("warm")
    const again = await b.claudy(["--via-parent", "-d", p, "--", "sleep", "300"])
    expect(again.stdout.trim()).toBe(s.name)
    expect(again.stderr).toContain("already runs")
  })
})

describe("everyday verbs", () => {
  test("sessions shell runs in the worker as its user; stop --all stops every running session", async () => {
    const p = project({}, 1234)
    const s = await spawn(["--new", p, "--", "sleep", "300"])
    const sh = Bun.spawn([join(import.meta.dir, "../../dist/claudy"), "sessions", "shell", s.name], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...b.env },
      stdin: new Blob(["id -u; pwd; echo $CLAUDE_CONFIG_DIR; exit 5\n"]),
      stdout: "pipe",
      stderr: "pipe"
    })
    const [out, code] = await Promise.all([new Response(sh.stdout).text(), sh.exited])
    expect(out).toContain("1234\n/workspace\n/home/claude/.claude")
    expect(code).toBe(5)
    expect((await b.claudy(["sessions", "shell", "no-such-session"])).code).not.toBe(0)

    const r = await b.claudy(["sessions", "stop", "--all"])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(s.name)
    const running = (await docker("ps", "-q", "--filter", `label=io.hal9000.instance=${b.instance}`, "--filter", "label=io.hal9000.role=worker")).stdout.trim()
    expect(running).toBe("")
    const both = await b.claudy(["sessions", "stop", "--all", s.name])
    expect(both.code).toBe(2)
  })
})

describe("profiles", () => {
  test("python is detected from pyproject.toml, built on the worker image, shown and recorded; its venv works", async () => {
    const ca = (await run(["sh", "-c", "ls /usr/local/share/ca-certificates/*.crt 2>/dev/null || true"])).stdout.split("\n").filter(Boolean)
    const built = await b.claudy(["images", "build", "--profile", "python", ...ca.flatMap((c) => ["--ca-cert", c])])
    expect(built.code).toBe(0)
    expect(built.stdout).toMatch(/profile python: \S+:worker-python (built|reused)/)
    const listed = JSON.parse((await b.claudy(["profiles", "list", "--json"])).stdout)
    expect(listed.find((x: any) => x.name === "python")).toMatchObject({ kind: "built-in", built: true, detected_by: ["pyproject.toml", "requirements.txt", "Pipfile"] })

    const p = project({ "pyproject.toml": "[project]\nname = 'x'\n" })
    const s = await spawn([p, "--", "sh", "-c", "python3 -m venv /tmp/v && /tmp/v/bin/python -c 'print(\"venv-\" + \"ok\")'; sleep 300"])
    expect(s.stderr).toContain("profile python (detected from pyproject.toml)")
    await waitLog(s.name, "venv-ok", 120_000)
    const rec = JSON.parse((await b.claudy(["sessions", "inspect", s.name, "--json"])).stdout)
    expect(rec.profile).toBe("python")
    expect(rec.image).toMatch(/:worker-python$/)
    expect((await inspect(`${b.instance}-worker-${s.name}`)).Config.Labels["io.hal9000.profile"]).toBe("python")

    // the warm pool keeps a python project warm with the python image, and its spawn takes it
    const q = project({ "requirements.txt": "" })
    expect((await b.claudy(["pool", "warm", q])).stdout).toContain("Created 1 warm worker")
    const w = await spawn([q, "--", "sleep", "300"])
    expect(spawnsLog().find((e) => e.session === w.name)?.served).toBe("warm")
    expect(JSON.parse((await b.claudy(["sessions", "inspect", w.name, "--json"])).stdout)).toMatchObject({ profile: "python" })
  })

  test("a custom profile must start FROM the worker image; one not built is a clear error naming the build command", async () => {
    const dir = join(b.home, "profiles")
    mkdirSync(join(dir, "foreign"), { recursive: true })
    writeFileSync(join(dir, "foreign", "Dockerfile"), "# not ours\nFROM debian:trixie-slim\nRUN true\n")
    mkdirSync(join(dir, "mine"), { recursive: true })
    writeFileSync(join(dir, "mine", "Dockerfile"), "ARG WORKER_IMAGE\nFROM ${WORKER_IMAGE}\nRUN true\n")

    const refused = await b.claudy(["images", "build", "--profile", "foreign"])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("it starts FROM debian:trixie-slim, not the worker image")
    const listed = JSON.parse((await b.claudy(["profiles", "list", "--json"])).stdout)
    expect(listed.find((x: any) => x.name === "foreign").problem).toContain("not the worker image")
    expect(listed.find((x: any) => x.name === "mine")).toMatchObject({ kind: "custom", built: false, problem: null })

    const missing = await b.claudy(["--via-parent", "-d", "--profile", "mine", project(), "--", "true"])
    expect(missing.code).toBe(6)
    expect(missing.stderr).toContain("the mine profile's image")
    expect(missing.stderr).toContain("claudy images build --profile mine")
  })
})

describe("backup, restore and reset cover the Claude home", () => {
  test("a backup has claude-home.tar.gz; restore brings the home back; reset --volumes removes it", async () => {
    const p = project()
    const dest = t.tempDir("claudy-sess-backup-")
    const taken = await b.claudy(["backup", "--dest", dest])
    expect(taken.code).toBe(0)
    const dir = /Backup written to (\S+)/.exec(taken.stdout)![1]!
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"))
    expect(manifest.volumes.find((v: any) => v.role === "claude-home")).toMatchObject({ volume: `${b.instance}-claude-home`, file: "claude-home.tar.gz" })

    const after = await spawn(["--new", p, "--", "sh", "-c", "claude mcp add -s user after-backup -- echo x && echo added; sleep 300"])
    await waitLog(after.name, "added")
    expect((await b.claudy(["sessions", "stop", "--all"])).code).toBe(0)
    const restored = await b.claudy(["restore", dir])
    expect(restored.code).toBe(0)
    const check = await spawn(["--new", p, "--", "sh", "-c", `${LIST_SERVERS}; sleep 300`])
    const servers = await waitLog(check.name, "servers=")
    expect(servers).toContain("kept-server")
    expect(servers).not.toContain("after-backup")

    const reset = await b.claudy(["reset", "--volumes", "--yes"])
    expect(reset.code).toBe(0)
    expect(reset.stdout).toContain(`${b.instance}-claude-home`)
    expect((await docker("volume", "inspect", `${b.instance}-claude-home`)).code).not.toBe(0)
  })
})
