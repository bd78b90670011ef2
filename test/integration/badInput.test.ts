/**
 * The bad-input catalogue: every command with malformed names, limits, paths, ports, numbers, env values and flag
 * combinations. Each row asserts the message, the exit code, and that the engine's object list did not change.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { docker, type Sandbox, sandboxWithParent, tcpEngine, tracked } from "../support/harness.ts"

const t = tracked()
let b: Sandbox
let project: string
let file: string
/** HAL9000_HOMEs with a key file others may read, one of another user, and profiles that are not on the worker image */
const keyIn = (home: string, mode: number, uid?: number) => {
  mkdirSync(join(home, "secrets"), { recursive: true })
  writeFileSync(join(home, "secrets", "anthropic_key"), "sk-ant-bad-input\n")
  chmodSync(join(home, "secrets", "anthropic_key"), mode)
  if (uid !== undefined) chownSync(join(home, "secrets", "anthropic_key"), uid, uid)
}
const profileIn = (home: string, name: string, dockerfile: string) => {
  mkdirSync(join(home, "profiles", name), { recursive: true })
  writeFileSync(join(home, "profiles", name, "Dockerfile"), dockerfile)
}
let engineOverTcp: Awaited<ReturnType<typeof tcpEngine>>
/** DOCKER_HOST=tcp://… to this host's engine: filled in once the forwarder listens */
const tcp: Record<string, string> = {}
beforeAll(async () => {
  engineOverTcp = await tcpEngine()
  tcp.DOCKER_HOST = engineOverTcp.dockerHost
  b = await sandboxWithParent(t)
  project = t.tempDir("claudy-badinput-", 1000)
  file = join(project, "a-file")
  writeFileSync(file, "x")
})
const readableKeyHome = t.tempDir("claudy-badinput-home-")
keyIn(readableKeyHome, 0o644)
profileIn(readableKeyHome, "alien", "# a profile on another base\nFROM debian:trixie-slim\n")
profileIn(readableKeyHome, "nofrom", "ARG X=1\nRUN true\n")
const foreignKeyHome = t.tempDir("claudy-badinput-home-")
keyIn(foreignKeyHome, 0o400, 4321)
afterAll(async () => {
  await engineOverTcp?.close()
  await t.cleanup()
})

// A user home with credential stores: ~/.ssh itself, and ~/.aws a symlink to where the files really are.
const userHome = t.tempDir("claudy-badinput-home-")
const elsewhere = t.tempDir("claudy-badinput-aws-")
mkdirSync(join(userHome, ".ssh", "keys"), { recursive: true })
mkdirSync(join(elsewhere, "profiles"))
mkdirSync(join(userHome, ".config", "gcloud"), { recursive: true })
symlinkSync(elsewhere, join(userHome, ".aws"))
symlinkSync(join(userHome, ".ssh"), join(userHome, "innocent-looking"))
const asUser = { HOME: userHome }

const engineObjects = async () =>
  [
    (await docker("ps", "-aq", "--no-trunc")).stdout.split("\n").filter(Boolean).sort().join(","),
    (await docker("volume", "ls", "-q")).stdout.split("\n").filter(Boolean).sort().join(",")
  ].join(" | ")

type Row = [label: string, args: () => Array<string>, env: Record<string, string>, message: string, code: number]

const rows: Array<Row> = [
  // settings, any command
  ["port not a number", () => ["daemon", "start"], { CHROMADB_PORT: "http" }, "CHROMADB_PORT is 'http'", 2],
  ["port out of range", () => ["daemon", "restart"], { CHROMADB_PORT: "65536" }, "CHROMADB_PORT is '65536'", 2],
  ["negative timeout", () => ["daemon", "start"], { CHROMADB_START_TIMEOUT: "-5" }, "CHROMADB_START_TIMEOUT is '-5'", 2],
  ["boolean typo", () => ["daemon", "start"], { SKIP_IMAGE_PULL: "ture" }, "SKIP_IMAGE_PULL is 'ture'", 2],
  ["min above max", () => ["pool", "status"], { MIN_WARM_WORKERS: "9", MAX_WARM_WORKERS: "3" }, "MIN_WARM_WORKERS (9) is greater than MAX_WARM_WORKERS (3)", 2],
  ["memory 0", () => ["daemon", "status"], { WORKER_MEMORY: "0" }, "WORKER_MEMORY is '0'", 2],
  ["cpus lots", () => ["sessions", "list"], { WORKER_CPUS: "lots" }, "WORKER_CPUS is 'lots'", 2],
  ["pids empty", () => ["config"], { WORKER_PIDS_LIMIT: "" }, "WORKER_PIDS_LIMIT is an empty string", 2],
  ["relative home", () => ["doctor"], { HAL9000_HOME: "state" }, "HAL9000_HOME is 'state'", 2],
  ["bad instance", () => ["reset"], { HAL9000_INSTANCE: "My Instance" }, "HAL9000_INSTANCE is 'My Instance'", 2],
  ["bad http addr", () => ["daemon", "run"], { HAL9000_HTTP_ADDR: "9090" }, "HAL9000_HTTP_ADDR is '9090'", 2],
  ["bad log level", () => ["config"], { HAL9000_LOG_LEVEL: "verbose" }, "HAL9000_LOG_LEVEL is 'verbose'", 2],
  ["bad embedding", () => ["daemon", "status"], { HAL9000_EMBEDDING: "word2vec" }, "HAL9000_EMBEDDING is 'word2vec'", 2],
  ["ssh engine", () => ["daemon", "status"], { DOCKER_HOST: "ssh://me@host" }, "ssh:// engines are not supported", 2],
  ["garbage engine address", () => ["daemon", "status"], { DOCKER_HOST: "docker.sock" }, "DOCKER_HOST 'docker.sock' is not usable", 2],
  ["--set unknown", () => ["daemon", "status", "--set", "PORT=1"], {}, "--set 'PORT=1' does not name a known setting", 2],
  ["--set bad value", () => ["config", "--set", "CHROMADB_PORT=x"], {}, "CHROMADB_PORT is 'x'", 2],
  // spawn
  ["name uppercase", () => ["--via-parent", "-d", "--name", "Up", project], {}, "--name is 'Up'", 2],
  ["name dotdot", () => ["spawn", "--via-parent", "-d", "--name", "a..b", project], {}, "it contains '..'", 2],
  ["name too long", () => ["--via-parent", "-d", "--name", "n".repeat(60), project], {}, "60 characters", 2],
  ["path missing", () => ["--via-parent", "-d", "/no/such/dir"], {}, "project directory /no/such/dir does not exist", 2],
  ["path is a file", () => ["--via-parent", "-d", file], {}, "is not a directory", 2],
  ["path /etc", () => ["--via-parent", "-d", "/etc"], {}, "/etc is a system directory", 2],
  ["path under /etc", () => ["--via-parent", "-d", "/etc/ssl"], {}, "/etc/ssl is inside /etc, a system directory", 2],
  ["path ~/.ssh/keys", () => ["--via-parent", "-d", join(userHome, ".ssh", "keys")], asUser, `is inside ${userHome}/.ssh, which holds credentials`, 2],
  ["symlink to ~/.ssh", () => ["--via-parent", "-d", join(userHome, "innocent-looking")], asUser, `resolves to ${userHome}/.ssh`, 2],
  ["inside a symlinked ~/.aws", () => ["--via-parent", "-d", join(elsewhere, "profiles")], asUser, `is inside ${elsewhere}, which holds credentials`, 2],
  ["a dir holding ~/.config/gcloud", () => ["--via-parent", "-d", join(userHome, ".config")], asUser, `contains ${userHome}/.config/gcloud`, 2],
  ["memory 4x", () => ["--via-parent", "-d", "--memory", "4x", project], {}, "--memory is '4x'", 2],
  ["cpus -1", () => ["--via-parent", "-d", "--cpus", "-1", project], {}, "--cpus is '-1'", 2],
  ["pids lots", () => ["--via-parent", "-d", "--pids-limit", "lots", project], {}, "--pids-limit is 'lots'", 2],
  ["no-limits and cpus", () => ["--via-parent", "-d", "--no-limits", "--cpus", "2", project], {}, "--no-limits cannot be combined with --cpus", 2],
  ["env without =", () => ["--via-parent", "-d", "-e", "FOO", project], {}, "-e 'FOO' is not KEY=VALUE", 2],
  ["unknown flag", () => ["--via-parent", "--memroy", "1g", project], {}, "Received unknown argument", 2],
  ["profile name uppercase", () => ["--via-parent", "-d", "--profile", "Py", project], {}, "'Py' is not a profile name", 2],
  ["profile unknown", () => ["--via-parent", "-d", "--profile", "cobol", project], {}, "there is no profile 'cobol'", 2],
  ["profile and image", () => ["--via-parent", "-d", "--profile", "python", "--image", "x:1", project], {}, "--image and --profile both choose", 2],
  // authentication
  ["key file readable by others", () => ["--via-parent", "-d", project], { HAL9000_HOME: readableKeyHome }, "is refused: its mode is 0644: group or others may read it", 2],
  ["key file of another user", () => ["--via-parent", "-d", project], { HAL9000_HOME: foreignKeyHome }, "is refused: it belongs to uid 4321", 2],
  ["auth status, unsafe key file", () => ["auth", "status"], { HAL9000_HOME: readableKeyHome }, "chmod 0400", 2],
  ["login without a terminal", () => ["login"], {}, "claudy login runs Claude Code's own login, which needs a terminal", 2],
  ["spawn on a tcp:// engine", () => ["--via-parent", "-d", project], tcp, "a spawn needs the Docker engine on this host, and DOCKER_HOST=tcp://", 2],
  ["TLS for a tcp:// engine", () => ["daemon", "status"], { DOCKER_HOST: "tcp://127.0.0.1:2376", DOCKER_TLS_VERIFY: "1" }, "DOCKER_TLS_VERIFY is set for DOCKER_HOST=tcp://127.0.0.1:2376", 2],
  // sessions
  ["inspect unknown", () => ["sessions", "inspect", "nobody"], {}, "No session named 'nobody'", 2],
  ["attach unknown", () => ["sessions", "attach", "nobody"], {}, "No session named 'nobody'", 2],
  ["logs unknown", () => ["sessions", "logs", "nobody"], {}, "No session named 'nobody'", 2],
  ["stop unknown", () => ["sessions", "stop", "nobody"], {}, "No session named 'nobody'", 2],
  ["rm unknown", () => ["sessions", "rm", "nobody"], {}, "No session named 'nobody'", 2],
  ["shell unknown", () => ["sessions", "shell", "nobody"], {}, "No session named 'nobody'", 2],
  ["stop with neither name nor --all", () => ["sessions", "stop"], {}, "sessions stop takes a session NAME or --all", 2],
  ["stop with both", () => ["sessions", "stop", "--all", "nobody"], {}, "sessions stop takes a session NAME or --all", 2],
  ["logs tail not a number", () => ["sessions", "logs", "x", "--tail", "many"], {}, "many", 2],
  // pool
  ["scale negative", () => ["pool", "scale", "-1"], {}, "pool scale -1 is outside 0..MAX_WARM_WORKERS (5)", 2],
  ["scale above max", () => ["pool", "scale", "99"], {}, "pool scale 99 is outside 0..MAX_WARM_WORKERS (5)", 2],
  ["scale not a number", () => ["pool", "scale", "five"], {}, "five", 2],
  ["warm missing path", () => ["pool", "warm", "/no/such/project"], {}, "project directory /no/such/project does not exist", 2],
  ["warm /", () => ["pool", "warm", "/"], {}, "/ is a system directory", 2],
  ["warm on a tcp:// engine", () => ["pool", "warm", project], tcp, "a warm worker needs the Docker engine on this host", 2],
  ["pool start on a tcp:// engine", () => ["pool", "start"], tcp, "the pool manager needs the Docker engine on this host", 2],
  ["warm ~/.ssh", () => ["pool", "warm", join(userHome, ".ssh")], asUser, "which holds credentials", 2],
  // daemon
  ["logs tail", () => ["daemon", "logs", "--tail", "x"], {}, "x", 2],
  ["start unknown flag", () => ["daemon", "start", "--recreat"], {}, "--recreat", 2],
  // operations
  ["restore missing", () => ["restore", "/no/such/backup"], {}, "Refusing to restore /no/such/backup: it has no manifest.json", 2],
  ["restore a project dir", () => ["restore", project], {}, "it has no manifest.json", 2],
  ["reset volumes without yes", () => ["reset", "--volumes"], {}, "reset --volumes deletes the ChromaDB", 2],
  ["backup on a tcp:// engine", () => ["backup"], tcp, "backup needs the Docker engine on this host", 2],
  ["restore on a tcp:// engine", () => ["restore", project], tcp, "restore needs the Docker engine on this host", 2],
  // a missing --dest is created (verbs.test.ts); one that is a file is refused before anything runs
  ["backup dest a file", () => ["backup", "--dest", "/etc/hostname"], {}, "Expected path '/etc/hostname' to be a directory", 2],
  // images
  ["images unknown kind", () => ["images", "build", "both"], {}, "Expected one of the following cases: all, parent, worker", 2],
  ["dockerfile unknown kind", () => ["images", "dockerfile", "cache"], {}, "Expected one of the following cases: parent, worker", 2],
  ["ca cert missing", () => ["images", "build", "--ca-cert", "/no/ca.pem"], {}, "/no/ca.pem", 2],
  ["build unknown profile", () => ["images", "build", "--profile", "cobol"], {}, "there is no profile 'cobol'", 2],
  ["build base profile", () => ["images", "build", "--profile", "base"], {}, "the base profile is the worker image itself", 2],
  ["profile Dockerfile not FROM the worker image", () => ["images", "build", "--profile", "alien"], { HAL9000_HOME: readableKeyHome }, "it starts FROM debian:trixie-slim, not the worker image", 2],
  ["profile Dockerfile without FROM", () => ["images", "build", "--profile", "nofrom"], { HAL9000_HOME: readableKeyHome }, "its first instruction is 'RUN', not FROM", 2]
]

describe("bad input", () => {
  test.each(rows)("%s", async (_label, args, env, message, code) => {
    const before = await engineObjects()
    const r = await b.claudy(args(), env)
    expect(r.code).toBe(code)
    expect(r.stdout + r.stderr).toContain(message)
    expect(await engineObjects()).toBe(before)
  })
})

describe("a tcp:// engine", () => {
  test("daemon, session and pool read commands work over it", async () => {
    const status = await b.claudy(["daemon", "status", "--json"], tcp)
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout).healthy).toBe(true)
    expect((await b.claudy(["sessions", "list"], tcp)).code).toBe(0)
    expect((await b.claudy(["pool", "status"], tcp)).code).toBe(0)
    expect((await b.claudy(["daemon", "start"], tcp)).stdout).toContain("is already running")
  })
})
