/** The control server's pure parts: which argv is served, request parsing, declines, the socket path, the warm cache. */
import { describe, expect, test } from "bun:test"
import { Console, Effect, Option } from "effect"
import { captureConsole } from "../../src/server/captureConsole.ts"
import { invalidates, KEEP_WARM_MS, makeCache } from "../../src/server/engineEvents.ts"
import { controlSocketPath, declineReason, isServed, parseRequest, type Request } from "../../src/server/protocol.ts"
import { keepsAnswer, makeReplies } from "../../src/server/replies.ts"
import { currentDependencies, type Dependencies, dependsOn, dependsOnFile } from "../../src/server/WarmState.ts"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const argv = (...words: Array<string>) => ["/bin/claudy", "/$bunfs/root/claudy", ...words]

describe("isServed", () => {
  test.each([
    [["daemon", "status"], true],
    [["daemon", "status", "--json", "--set", "CHROMADB_PORT=8080"], true],
    [["sessions", "list"], true],
    [["sessions", "inspect", "x"], true],
    [["pool", "status"], true],
    [["--via-parent", "-d", "/p"], true],
    [["-d", "."], true],
    [["spawn", "--detach", "/p", "--", "sleep", "1"], true],
    [["--via-parent", "/p"], false], // interactive: needs this terminal
    [["--via-parent", "/p", "--", "run", "-d"], false], // -d of the session's command, not claudy's
    [["daemon", "status", "--help"], false],
    [["daemon", "start"], false],
    [["daemon", "run"], false],
    [["sessions", "attach", "x"], false],
    [["sessions", "rm", "x"], false],
    [["pool", "start"], false],
    [["config"], false],
    [["serve"], false],
    [["--version"], false],
    [[], false]
  ])("%p -> %p", (words, served) => {
    expect(isServed(argv(...words))).toBe(served)
  })
})

describe("parseRequest", () => {
  const good = { v: 2, build: "b", argv: argv("daemon", "status"), env: { A: "1" }, cwd: "/tmp" }
  test("a well-formed request", () => {
    expect(parseRequest(JSON.stringify(good))).toEqual({ ok: true, request: good })
  })
  test("fields it does not know are left out (a version 1 client's terminals)", () => {
    expect(parseRequest(JSON.stringify({ ...good, tty: { out: true, err: false } }))).toEqual({ ok: true, request: good })
  })
  test.each([
    ["{", "the request is not JSON"],
    ["42", "the request is not a JSON object"],
    [JSON.stringify({ ...good, v: 1 }), "unknown protocol version 1 (this server speaks 2)"],
    [JSON.stringify({ ...good, build: 1 }), "build must be a string"],
    [JSON.stringify({ ...good, argv: ["x"] }), "argv must be an array of at least two strings"],
    [JSON.stringify({ ...good, argv: ["x", 1] }), "argv must be an array of at least two strings"],
    [JSON.stringify({ ...good, env: { A: 1 } }), "env must be an object of strings"],
    [JSON.stringify({ ...good, env: [] }), "env must be an object of strings"],
    [JSON.stringify({ ...good, cwd: "relative" }), "cwd must be an absolute path"]
  ])("%s is refused: %s", (line, error) => {
    expect(parseRequest(line)).toEqual({ ok: false, error })
  })
})

describe("declineReason", () => {
  const r: Request = { v: 2, build: "b1", argv: argv("daemon", "status"), env: { HOME: "/root" }, cwd: "/" }
  test("same build, same HOME, served command: accepted", () => {
    expect(declineReason(r, { build: "b1", home: "/root" })).toBeUndefined()
  })
  test("another build, another HOME, a command not served: declined", () => {
    expect(declineReason(r, { build: "b2", home: "/root" })).toBe("another build (server b2, client b1)")
    expect(declineReason(r, { build: "b1", home: "/home/x" })).toBe("another HOME")
    expect(declineReason({ ...r, argv: argv("daemon", "run") }, { build: "b1", home: "/root" })).toBe("not a served command")
  })
})

describe("controlSocketPath", () => {
  test("HAL9000_HOME as Settings reads it: default, ~, absolute; invalid is none", () => {
    expect(controlSocketPath({}, "/home/u")).toBe("/home/u/.hal9000/run/control.sock")
    expect(controlSocketPath({ HAL9000_HOME: "~/h" }, "/home/u")).toBe("/home/u/h/run/control.sock")
    expect(controlSocketPath({ HAL9000_HOME: "/srv/h/" }, "/home/u")).toBe("/srv/h/run/control.sock")
    expect(controlSocketPath({ HAL9000_HOME: "relative" }, "/home/u")).toBeUndefined()
    expect(controlSocketPath({ HAL9000_HOME: "" }, "/home/u")).toBeUndefined()
    // spelled out, not normalized: the kernel resolves .. and // in the path it connects to
    expect(controlSocketPath({ HAL9000_HOME: "~//h/../g" }, "/home/u")).toBe("/home/u//h/../g/run/control.sock")
    expect(controlSocketPath({ HAL9000_HOME: "/" }, "/home/u")).toBe("/run/control.sock")
  })
})

describe("warm cache", () => {
  const counter = () => {
    let n = 0
    return Effect.sync(() => ++n)
  }
  test("reused until a relevant event, never while events are not followed, never for another engine", () => {
    const c = makeCache("unix:///a")
    const compute = counter()
    const get = (at = "unix:///a") => Effect.runSync(c.cache.cached(at, "k", compute))
    expect([get(), get()]).toEqual([1, 2]) // not following yet
    c.setFollowing(true)
    expect([get(), get()]).toEqual([3, 3])
    c.onEvent({ Type: "container", Action: "start", Actor: { Attributes: { "io.hal9000.managed": "true" } } })
    expect(get()).toBe(4)
    c.onEvent({ Type: "container", Action: "start", Actor: { Attributes: {} } }) // not claudy's
    expect(get()).toBe(4)
    expect(get("tcp://other:2375")).toBe(5)
    c.setFollowing(false)
    expect([get(), get()]).toEqual([6, 7])
  })
  test("forget: what a command of the server changed is asked anew before its event comes, for that key only", () => {
    const c = makeCache("a")
    c.setFollowing(true)
    const compute = counter()
    const get = (key: string) => Effect.runSync(c.cache.cached("a", key, compute))
    expect([get("containers:h:i"), get("other"), get("containers:h:i")]).toEqual([1, 2, 1])
    c.cache.forget("b", "containers:h:i") // another engine's: nothing
    expect(get("containers:h:i")).toBe(1)
    c.cache.forget("a", "containers:h:i")
    expect([get("containers:h:i"), get("other")]).toEqual([3, 2])
  })
  test("cached with a check: reused only while the check holds", () => {
    const c = makeCache("a")
    c.setFollowing(true)
    const compute = counter()
    let alive = true
    const get = () => Effect.runSync(c.cache.cached("a", "parent", compute, () => alive))
    expect([get(), get()]).toEqual([1, 1])
    alive = false
    expect([get(), get()]).toEqual([2, 3])
  })

  test("fresh: at most maxAge old, refreshed in the background at half that age while asked for, then let go", () => {
    let clock = 0
    const c = makeCache("a", () => clock)
    const compute = counter()
    const get = () => Effect.runSync(c.cache.fresh("a", "hb", 2000, compute))
    c.setFollowing(true)
    expect([get(), get()]).toEqual([1, 1])
    clock = 900
    Effect.runSync(c.refresh)
    expect(get()).toBe(1) // not yet half its age
    clock = 1100
    Effect.runSync(c.refresh)
    expect(get()).toBe(2) // refreshed in the background
    clock = 3200
    expect(get()).toBe(3) // too old: asked anew
    c.onEvent({ Type: "volume", Action: "create" })
    expect(get()).toBe(4)
    clock += KEEP_WARM_MS + 1
    Effect.runSync(c.refresh) // nobody asked for ten minutes: dropped from the refresh list, nothing computed
    Effect.runSync(c.refresh)
    expect(Effect.runSync(compute)).toBe(5)
  })

  test("a volume's create event (every container that mounts it) forgets neither it found nor a list that has it", () => {
    const c = makeCache("a")
    c.setFollowing(true)
    let n = 0
    const found = (name: string) => Effect.runSync(c.cache.cached("a", `volume:${name}`, Effect.sync(() => (++n, Option.some({ Name: name, n })))))
    const absent = () => Effect.runSync(c.cache.cached("a", "volume:new", Effect.sync(() => (++n, Option.none()))))
    const list = () => Effect.runSync(c.cache.cached("a", "volumes:h:i", Effect.sync(() => (++n, [{ Name: "home" }]))))
    const before = [found("home"), absent(), list()]
    c.onEvent({ Type: "volume", Action: "create", Actor: { ID: "home" } })
    expect([found("home"), absent(), list()]).toEqual(before)
    c.onEvent({ Type: "volume", Action: "create", Actor: { ID: "new" } })
    expect([found("home"), absent(), list()]).toEqual([before[0]!, Option.none(), [{ Name: "home" }]])
    expect(n).toBe(5) // the absent one and the list (which lacks it) asked again
    c.onEvent({ Type: "volume", Action: "destroy", Actor: { ID: "home" } })
    expect(found("home")).toEqual(Option.some({ Name: "home", n: 6 }))
  })

  test("an event forgets only what it can change, and spoils a value being asked that it changes", () => {
    const c = makeCache("a")
    c.setFollowing(true)
    let n = 0
    const get = (key: string) => Effect.runSync(c.cache.cached("a", key, Effect.sync(() => ++n)))
    const keys = ["info", "image:w", "volume:v", "parent:p", "containers:h:i", "heartbeat:1"]
    const before = keys.map(get)
    const worker = { "io.hal9000.managed": "true", "io.hal9000.home": "h", "io.hal9000.instance": "i", name: "w1" }
    c.onEvent({ Type: "container", Action: "start", Actor: { Attributes: { ...worker, "io.hal9000.instance": "other" } } })
    expect(keys.map(get)).toEqual(before) // another owner's worker: nothing
    c.onEvent({ Type: "container", Action: "start", Actor: { Attributes: worker } })
    expect(keys.map(get)).toEqual([...before.slice(0, 4), 7, 6]) // this owner's worker: only its container list
    c.onEvent({ Type: "container", Action: "die", Actor: { Attributes: { "io.hal9000.managed": "true", "io.hal9000.role": "parent", name: "p" } } })
    expect([get("parent:p"), get("heartbeat:1"), get("containers:h:i")]).toEqual([8, 9, 7])
    c.onEvent({ Type: "volume", Action: "create" })
    expect([get("volume:v"), get("image:w"), get("info")]).toEqual([10, 2, 1])
    // a value whose compute saw an affecting event is returned but not kept
    const spoiled = Effect.runSync(c.cache.cached("a", "image:x", Effect.sync(() => (c.onEvent({ Type: "image", Action: "tag" }), 100))))
    expect(spoiled).toBe(100)
    expect(Effect.runSync(c.cache.cached("a", "image:x", Effect.sync(() => 101)))).toBe(101)
  })

  test("which events invalidate", () => {
    expect(invalidates({ Type: "volume", Action: "destroy" })).toBe(true)
    expect(invalidates({ Type: "volume", Action: "mount" })).toBe(false)
    expect(invalidates({ Type: "volume", Action: "unmount" })).toBe(false)
    expect(invalidates({ Type: "image", Action: "tag" })).toBe(true)
    expect(invalidates({ Type: "container", Action: "die", Actor: { Attributes: { "io.hal9000.managed": "true" } } })).toBe(true)
    expect(invalidates({ Type: "container", Action: "die" })).toBe(false)
    expect(invalidates({ Type: "network", Action: "connect" })).toBe(false)
  })
})

describe("kept answers (replies)", () => {
  const req = (words: Array<string>, env: Record<string, string> = {}): Request => ({
    v: 2,
    build: "b",
    argv: argv(...words),
    env,
    cwd: "/"
  })
  const answer = { t: "result", stdout: "up\n", stderr: "", code: 0 } as const

  test("only a status is kept, and not one that logs its calls", () => {
    expect(keepsAnswer(req(["daemon", "status"]))).toBe(true)
    expect(keepsAnswer(req(["daemon", "status", "--json"]))).toBe(true)
    expect(keepsAnswer(req(["daemon", "status"], { HAL9000_LOG_LEVEL: "debug" }))).toBe(false)
    expect(keepsAnswer(req(["sessions", "list"]))).toBe(false)
    expect(keepsAnswer(req(["--via-parent", "-d", "/p"]))).toBe(false)
  })

  test("reused while no event came and every check holds; another request is another answer", () => {
    let generation = 0
    const r = makeReplies(() => generation)
    const status = req(["daemon", "status"])
    expect(r.reuse(status)).toBeUndefined()
    let alive = true
    const first = r.begin(status)
    first.deps.checks.push(() => alive)
    first.keep(answer)
    expect(r.reuse(status)).toEqual(answer)
    expect(r.reuse(req(["daemon", "status", "--json"]))).toBeUndefined()
    expect(r.reuse(req(["daemon", "status"], { CHROMADB_PORT: "9" }))).toBeUndefined()
    // what claudy reads makes another answer (settings, its families, HOME, NO_COLOR …); a shell's or hyperfine's own not
    for (const read of ["WORKER_MEMORY", "HAL9000_ANYTHING", "DOCKER_HOST", "HOME", "NO_COLOR", "TERM", "ANTHROPIC_API_KEY"]) {
      expect(r.reuse(req(["daemon", "status"], { [read]: "x" }))).toBeUndefined()
    }
    expect(r.reuse(req(["daemon", "status"], { HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET: "17", SHLVL: "2", _: "/bin/x" }))).toEqual(answer)
    alive = false
    expect(r.reuse(status)).toBeUndefined() // and forgotten
    alive = true
    expect(r.reuse(status)).toBeUndefined()
    r.begin(status).keep(answer)
    generation++
    expect(r.reuse(status)).toBeUndefined()
  })

  test("not kept when an event came while it was computed, or when it rests on something unchecked", () => {
    let generation = 0
    const r = makeReplies(() => generation)
    const status = req(["daemon", "status"])
    const during = r.begin(status)
    generation++
    during.keep(answer)
    expect(r.reuse(status)).toBeUndefined()
    const unchecked = r.begin(status)
    unchecked.deps.reusable = false
    unchecked.keep(answer)
    expect(r.reuse(status)).toBeUndefined()
  })

  test("what a command registers while it runs: checks, files, cache uses; nothing outside a kept request", () => {
    const dir = mkdtempSync(join(tmpdir(), "claudy-deps-"))
    const file = join(dir, "settings.json")
    const deps: Dependencies = { reusable: true, checks: [] }
    const c = makeCache("a")
    c.setFollowing(true)
    let n = 0
    let alive = true
    const run = <A>(e: Effect.Effect<A>) => Effect.runSync(Effect.locally(e, currentDependencies, deps))
    run(Effect.all([dependsOn(() => true), dependsOnFile(file), c.cache.cached("a", "parent:p", Effect.sync(() => ++n), () => alive)]))
    expect(deps.checks.length).toBe(3)
    expect(deps.checks.every((check) => check())).toBe(true)
    writeFileSync(file, "{}")
    alive = false
    expect(deps.checks.map((check) => check())).toEqual([true, false, false])
    alive = true
    c.onEvent({ Type: "container", Action: "die", Actor: { Attributes: { "io.hal9000.managed": "true", name: "p" } } })
    expect(deps.checks[2]!()).toBe(false) // the entry it used was forgotten
    c.setFollowing(false)
    run(c.cache.cached("a", "p", Effect.sync(() => ++n)))
    expect(deps.reusable).toBe(false) // computed while the events were not followed
    Effect.runSync(Effect.all([dependsOn(() => false), dependsOnFile(file)])) // no request: nothing collected
    expect(deps.checks.length).toBe(3)
  })

  test("a failed call is no answer to keep", () => {
    const deps: Dependencies = { reusable: true, checks: [] }
    const c = makeCache("a")
    c.setFollowing(true)
    Effect.runSync(Effect.locally(Effect.either(c.cache.cached("a", "p", Effect.fail("down"))), currentDependencies, deps))
    expect(deps.reusable).toBe(false)
  })
})

describe("captureConsole", () => {
  test("log and info to stdout, error and warn to stderr, formatted like console.log", () => {
    const c = captureConsole(Effect.runSync(Effect.console))
    Effect.runSync(
      Effect.all([Console.log("a", 1), Console.error("e %s", "x"), Console.info({ k: 1 }), Console.warn("w")]).pipe(Console.withConsole(c.console))
    )
    expect(c.stdout()).toBe("a 1\n{ k: 1 }\n")
    expect(c.stderr()).toBe("e x\nw\n")
  })
})
