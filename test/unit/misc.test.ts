import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { resolveSettings } from "../../src/config/variables.ts"
import { listeningInodes } from "../../src/daemon/portHolder.ts"
import { parseDockerHost } from "../../src/docker/address.ts"
import { demuxFrames, lastLines } from "../../src/docker/logStream.ts"
import { pullPolicy } from "../../src/images/pullPolicy.ts"

const frame = (stream: number, text: string) => {
  const payload = new TextEncoder().encode(text)
  const header = new Uint8Array(8)
  header[0] = stream
  new DataView(header.buffer).setUint32(4, payload.length)
  return new Uint8Array([...header, ...payload])
}

describe("log stream", () => {
  test("demuxes stdout and stderr frames in order", () => {
    const buf = new Uint8Array([...frame(1, "hello\n"), ...frame(2, "oops\n"), ...frame(1, "bye\n")])
    expect(demuxFrames(buf)).toBe("hello\noops\nbye\n")
  })
  test("passes raw (TTY) output through", () => expect(demuxFrames(new TextEncoder().encode("plain\n"))).toBe("plain\n"))
  test("lastLines drops blank lines and keeps the tail", () => expect(lastLines("a\n\nb\r\nc\n", 2)).toEqual(["b", "c"]))
})

describe("DOCKER_HOST", () => {
  test("unix socket", () =>
    expect(parseDockerHost("unix:///var/run/docker.sock")).toEqual(
      Either.right({ _tag: "unix", socketPath: "/var/run/docker.sock", display: "unix:///var/run/docker.sock" })
    ))
  test("tcp", () =>
    expect(parseDockerHost("tcp://127.0.0.1:2375")).toEqual(
      Either.right({ _tag: "tcp", baseUrl: "http://127.0.0.1:2375", display: "tcp://127.0.0.1:2375" })
    ))
  test("ssh is refused with a way forward", () => {
    const r = parseDockerHost("ssh://me@host")
    expect(Either.isLeft(r) && r.left.includes("ssh -nNT -L")).toBe(true)
  })
  test("garbage is refused", () => expect(Either.isLeft(parseDockerHost("docker.sock"))).toBe(true))
})

describe("port holder", () => {
  const procNetTcp = [
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0",
    "   1: 0100007F:1F40 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 9999 1 0",
    "   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0"
  ].join("\n")
  test("finds the LISTEN socket on the port, not connections", () => expect(listeningInodes(procNetTcp, 8000)).toEqual(["4242"]))
  test("nothing on a free port", () => expect(listeningInodes(procNetTcp, 9000)).toEqual([]))
})

describe("pull policy", () => {
  const s = (env: Record<string, string>) => {
    const r = resolveSettings({ env })
    if (Either.isLeft(r)) throw r.left
    return r.right.settings
  }
  test("default: pull only what is missing", () => {
    expect(pullPolicy(s({}), "parent")).toBe("if-missing")
    expect(pullPolicy(s({}), "worker")).toBe("if-missing")
  })
  test("SKIP_IMAGE_PULL never pulls and does not check the worker image", () => {
    expect(pullPolicy(s({ SKIP_IMAGE_PULL: "true" }), "parent")).toBe("never")
    expect(pullPolicy(s({ SKIP_IMAGE_PULL: "true" }), "worker")).toBe("not-checked")
  })
  test("LAZY_IMAGE_PULL leaves the worker image to the first spawn", () =>
    expect(pullPolicy(s({ LAZY_IMAGE_PULL: "true" }), "worker")).toBe("not-checked"))
})

import { isSpawnForm } from "../../src/cli/root.ts"
describe("which command tree parses argv", () => {
  const argv = (...a: Array<string>) => ["bun", "claudy", ...a]
  test("subcommands and root flags use the subcommand tree", () => {
    for (const a of [[], ["--help"], ["--version"], ["daemon", "start"], ["spawn", "."], ["sessions", "list"], ["config"], ["images", "build"]]) {
      expect(isSpawnForm(argv(...a))).toBe(false)
    }
  })
  test("the guide's spawn forms use the spawn tree", () => {
    for (const a of [["--via-parent", "/p"], ["--via-parent", "--detach"], ["/p"], ["-d", "."], ["--name", "x"]]) {
      expect(isSpawnForm(argv(...a))).toBe(true)
    }
  })
})

import { normalizeHelp } from "../../src/cli/root.ts"
describe("--help anywhere", () => {
  const argv = (...a: Array<string>) => ["bun", "claudy", ...a]
  test("moves --help behind each word of the command path (so the usage line shows the full path)", () => {
    expect(normalizeHelp(argv("daemon", "start", "--recreate", "--help"), false)).toEqual(
      argv("--help", "daemon", "--help", "start", "--help")
    )
    expect(normalizeHelp(argv("sessions", "inspect", "foo", "-h"), false)).toEqual(
      argv("--help", "sessions", "--help", "inspect", "--help")
    )
    expect(normalizeHelp(argv("--via-parent", "/p", "--help"), true)).toEqual(argv("--help"))
  })
  test("leaves argv without --help alone", () => expect(normalizeHelp(argv("daemon", "status"), false)).toEqual(argv("daemon", "status")))
})

import { mkdtempSync, existsSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import { readFileSync } from "node:fs"
import { lockFile, removeIfHeldBy } from "../../src/state/lockFile.ts"
describe("lock files", () => {
  test("are removed only while they still name the pid: a newer holder's file stays", () => {
    const dir = mkdtempSync(join(tmpdir(), "claudy-lock-"))
    try {
      const file = join(dir, "pool-manager.pid")
      writeFileSync(file, "4242\n")
      removeIfHeldBy(file, 4141)
      expect(existsSync(file)).toBe(true)
      removeIfHeldBy(file, 4242)
      expect(existsSync(file)).toBe(false)
      removeIfHeldBy(file, 4242) // already gone: no error
      expect(existsSync(file)).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("a stale lock (its pid is gone) is taken over; a live holder's is refused and kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "claudy-lock-"))
    try {
      const file = join(dir, "maintenance")
      const take = lockFile(file, "test", (h) => `held by ${h.pid}`)
      writeFileSync(file, "999999999 gone\n")
      const held = await Effect.runPromise(Effect.scoped(Effect.map(take, () => readFileSync(file, "utf8"))))
      expect(held).toBe(`${process.pid} test\n`)
      expect(existsSync(file)).toBe(false) // released with the scope
      writeFileSync(file, `${process.ppid} other\n`)
      const refused = await Effect.runPromiseExit(Effect.scoped(take))
      expect(refused).toEqual(Exit.fail(`held by ${process.ppid}`))
      expect(readFileSync(file, "utf8")).toBe(`${process.ppid} other\n`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

import { parseSince } from "../../src/sessions/since.ts"
describe("sessions logs --since", () => {
  const now = Date.parse("2026-12-02T06:00:00Z")
  const at = (iso: string) => `${Date.parse(iso) / 1000}.000000000`
  test("durations back from now, dates, and Unix seconds, as docker logs reads them", () => {
    expect(parseSince("90s", now)).toEqual(Either.right(at("2026-12-02T05:58:30Z")))
    expect(parseSince("1h30m", now)).toEqual(Either.right(at("2026-12-02T04:30:00Z")))
    expect(parseSince("2026-12-02T05:00:00Z", now)).toEqual(Either.right(at("2026-12-02T05:00:00Z")))
    expect(parseSince("2026-12-01", now)).toEqual(Either.right(at("2026-12-01T00:00:00Z")))
    expect(parseSince("1796189400", now)).toEqual(Either.right("1796189400.000000000"))
    expect(parseSince("2026-12-02T05:00:00.250Z", now)).toEqual(Either.right(`${at("2026-12-02T05:00:00Z").split(".")[0]}.250000000`))
  })
  test("anything else is refused with the accepted forms", () => {
    for (const bad of ["", "10 minutes", "yesterday", "1d", "-5m", "2026-13-45"]) expect(Either.isLeft(parseSince(bad, now))).toBe(true)
  })
})
