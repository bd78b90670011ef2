/**
 * Every setting claudy reads, with its default and accepted form: the seed is the user guide's CONFIGURATION.md.
 * Parsing is pure: `resolveSettings` takes raw strings (from the environment and flags) and returns validated
 * Settings or the first ConfigInvalid. Effects (reading the environment) live in Settings.ts.
 */
import { Either, Schema } from "effect"
import { homedir } from "node:os"
import { resolve } from "node:path"
import { ConfigConflict, ConfigInvalid } from "../domain/errors.ts"
import { parseCpus, parseMemory, parsePids } from "../domain/limits.ts"
import { defaultHome, spelledOutHome } from "./homePath.ts"
import { DEFAULT_INSTANCE, INSTANCE_PATTERN } from "../domain/names.ts"
import { tlsRefusal } from "../docker/address.ts"
import { DEFAULT_EMBEDDING, parseEmbedding } from "../mcp/embeddingSetting.ts"

/** Where a value came from: a --set flag, the environment, what `daemon start` kept in HAL9000_HOME, or the default. */
export type Source = "default" | "kept" | "env" | "flag"

type Parse<A> = (raw: string) => Either.Either<A, string>

export interface Variable<A> {
  readonly name: string
  /** the default as a user would write it */
  readonly default: () => string
  readonly parse: Parse<A>
  readonly description: string
  readonly secret?: boolean
}

/** Whole numbers in plain decimal digits only: "8e3", " 80" or "0x50" are typos, not ports. */
const intBetween = (min: number, max: number, form: string): Parse<number> => {
  const decode = Schema.decodeUnknownEither(Schema.NumberFromString.pipe(Schema.int(), Schema.between(min, max)))
  return (raw) => (/^[0-9]+$/.test(raw) ? Either.mapLeft(decode(raw), () => form) : Either.left(form))
}

const BOOLEAN_FORM = "true or false (also 1/0, yes/no)"
const parseBoolean: Parse<boolean> = (raw) => {
  const v = raw.toLowerCase()
  if (["true", "1", "yes", "on"].includes(v)) return Either.right(true)
  if (["false", "0", "no", "off"].includes(v)) return Either.right(false)
  return Either.left(BOOLEAN_FORM)
}

const nonEmpty =
  (form: string): Parse<string> =>
  (raw) =>
    raw.trim() === "" || raw.trim() !== raw ? Either.left(form) : Either.right(raw)

const IMAGE_FORM = "an image reference like registry/name:tag or name@sha256:…"
const parseImage: Parse<string> = (raw) =>
  /^[a-z0-9][a-z0-9._/:@-]*$/i.test(raw) && !/\s/.test(raw) ? Either.right(raw) : Either.left(IMAGE_FORM)

const PATH_FORM = "an absolute path (or one starting with ~/)"
const parseHome: Parse<string> = (raw) =>
  Either.map(Either.fromNullable(spelledOutHome(raw, homedir()), () => PATH_FORM), (path) => resolve(path))
const parseContainerPath: Parse<string> = (raw) =>
  raw.startsWith("/") && raw !== "/" && !raw.split("/").includes("..") && !/\s/.test(raw)
    ? Either.right(raw)
    : Either.left("an absolute path inside the container other than /, like /data/chromadb")

const HOST_FORM = "an address to bind inside the parent, like 0.0.0.0 or ::"
const parseBindHost: Parse<string> = (raw) =>
  /^[0-9a-f.:]+$/i.test(raw) || /^[a-z0-9.-]+$/i.test(raw) ? Either.right(raw) : Either.left(HOST_FORM)

const withMemory: Parse<{ raw: string; bytes: number }> = (raw) =>
  Either.map(parseMemory(raw), (bytes) => ({ raw, bytes }))
const withCpus: Parse<{ raw: string; nanoCpus: number }> = (raw) =>
  Either.map(parseCpus(raw), (nanoCpus) => ({ raw, nanoCpus }))

const LEVELS = ["debug", "info", "warn", "error"] as const
const FORMATS = ["text", "json"] as const
/** local: one engine, the parent's network namespace, the FIFO claim; swarm: docs/SCALE-OUT.md */
export const BACKENDS = ["local", "swarm"] as const
const oneOf =
  <T extends string>(values: ReadonlyArray<T>): Parse<T> =>
  (raw) =>
    (values as ReadonlyArray<string>).includes(raw) ? Either.right(raw as T) : Either.left(`one of ${values.join(", ")}`)

const v = <A>(
  name: string,
  def: string | (() => string),
  parse: Parse<A>,
  description: string,
  secret = false
): Variable<A> => ({
  name,
  default: typeof def === "string" ? () => def : def,
  parse,
  description,
  ...(secret ? { secret } : {})
})

export const VARIABLES = {
  home: v("HAL9000_HOME", () => defaultHome(homedir()), parseHome, "Base directory for state (sessions, pool, logs)"),
  instance: v(
    "HAL9000_INSTANCE",
    DEFAULT_INSTANCE,
    (raw) =>
      INSTANCE_PATTERN.test(raw)
        ? Either.right(raw)
        : Either.left("lowercase letters, digits and dashes, starting with a letter, at most 32 characters"),
    "Prefix of every container and volume name (hal9000-parent, hal9000-chromadb, …)"
  ),
  parentImage: v("PARENT_IMAGE", "ghcr.io/hellblazer/hal-9000:parent", parseImage, "Parent (ChromaDB) container image"),
  workerImage: v("WORKER_IMAGE", "ghcr.io/hellblazer/hal-9000:worker", parseImage, "Worker container image"),
  chromadbHost: v("CHROMADB_HOST", "0.0.0.0", parseBindHost, "ChromaDB bind address inside the parent"),
  chromadbPort: v(
    "CHROMADB_PORT",
    "8000",
    intBetween(1, 65535, "a TCP port number from 1 to 65535"),
    "ChromaDB server port (published on 127.0.0.1)"
  ),
  chromadbDataDir: v("CHROMADB_DATA_DIR", "/data/chromadb", parseContainerPath, "ChromaDB data directory in the parent"),
  chromadbStartTimeout: v(
    "CHROMADB_START_TIMEOUT",
    "30",
    intBetween(1, 3600, "a whole number of seconds from 1 to 3600"),
    "Seconds to wait for ChromaDB's heartbeat after start"
  ),
  skipImagePull: v("SKIP_IMAGE_PULL", "false", parseBoolean, "Never pull images; they must be present"),
  lazyImagePull: v("LAZY_IMAGE_PULL", "false", parseBoolean, "Do not wait for the worker image at daemon start"),
  enablePoolManager: v("ENABLE_POOL_MANAGER", "false", parseBoolean, "Enable warm worker pool"),
  minWarmWorkers: v(
    "MIN_WARM_WORKERS",
    "2",
    intBetween(0, 100, "a whole number from 0 to 100"),
    "Minimum warm workers to maintain"
  ),
  maxWarmWorkers: v(
    "MAX_WARM_WORKERS",
    "5",
    intBetween(1, 100, "a whole number from 1 to 100"),
    "Maximum warm workers allowed"
  ),
  idleTimeout: v(
    "IDLE_TIMEOUT",
    "300",
    intBetween(1, 604800, "a whole number of seconds from 1 to 604800"),
    "Seconds before idle worker cleanup"
  ),
  checkInterval: v(
    "CHECK_INTERVAL",
    "30",
    intBetween(1, 3600, "a whole number of seconds from 1 to 3600"),
    "Seconds between pool checks"
  ),
  workerMemory: v("WORKER_MEMORY", "4g", withMemory, "Memory limit per worker"),
  workerCpus: v("WORKER_CPUS", "2", withCpus, "CPU cores per worker"),
  workerPidsLimit: v(
    "WORKER_PIDS_LIMIT",
    "100",
    (raw) => parsePids(raw),
    "Maximum processes per worker"
  ),
  logLevel: v("HAL9000_LOG_LEVEL", "info", oneOf(LEVELS), "Log level: debug, info, warn, error"),
  logFormat: v("HAL9000_LOG_FORMAT", "text", oneOf(FORMATS), "Log format: text or json"),
  httpAddr: v(
    "HAL9000_HTTP_ADDR",
    "127.0.0.1:9090",
    (raw): Either.Either<{ host: string; port: number } | null, string> => {
      if (raw === "none") return Either.right(null)
      const m = /^(\[[0-9a-f:]+\]|[a-z0-9.-]+):([0-9]+)$/i.exec(raw)
      const port = Number(m?.[2])
      return m && port >= 1 && port <= 65535
        ? Either.right({ host: m[1]!.replace(/^\[|\]$/g, ""), port })
        : Either.left("host:port like 127.0.0.1:9090, or none to turn the health and metrics server off")
    },
    "Address of daemon run's /health/live, /health/ready and /metrics"
  ),
  watchdogInterval: v(
    "HAL9000_WATCHDOG_INTERVAL",
    "5",
    intBetween(1, 3600, "a whole number of seconds from 1 to 3600"),
    "Seconds between daemon run's checks of the parent and ChromaDB"
  ),
  backend: v(
    "HAL9000_BACKEND",
    "local",
    oneOf(BACKENDS),
    "Where workers run: local (this host's engine) or swarm (Docker Swarm; DOCKER_HOST names a manager)"
  ),
  dockerHost: v(
    "DOCKER_HOST",
    "unix:///var/run/docker.sock",
    nonEmpty("unix:///path/to/docker.sock or tcp://host:port"),
    "Docker engine address"
  ),
  embedding: v(
    "HAL9000_EMBEDDING",
    DEFAULT_EMBEDDING,
    (raw) => Either.map(parseEmbedding(raw), (setting) => ({ raw, setting })),
    "Embedding of `claudy mcp chroma` (the agents' ChromaDB tools): hash (offline), ollama:MODEL@URL or openai:MODEL@URL"
  ),
  anthropicApiKey: v("ANTHROPIC_API_KEY", "", (raw) => Either.right(raw), "API key for Claude Code (passed to workers as a file)", true)
} as const

type Vars = typeof VARIABLES
export type SettingKey = keyof Vars
type ValueOf<K extends SettingKey> = Vars[K] extends Variable<infer A> ? A : never

export type Settings = { readonly [K in SettingKey]: ValueOf<K> }

export interface ResolvedSetting {
  readonly name: string
  readonly raw: string
  readonly source: Source
  readonly description: string
  readonly secret: boolean
}

export interface ResolvedSettings {
  readonly settings: Settings
  readonly sources: ReadonlyArray<ResolvedSetting>
}

/** raw values by variable name: flags win over the environment, which wins over what `daemon start` kept */
export interface RawInput {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly flags?: Readonly<Record<string, string | undefined>>
  readonly kept?: Readonly<Record<string, string | undefined>>
}

export const resolveSettings = (input: RawInput): Either.Either<ResolvedSettings, ConfigInvalid | ConfigConflict> => {
  const settings: Record<string, unknown> = {}
  const sources: Array<ResolvedSetting> = []
  for (const [key, variable] of Object.entries(VARIABLES) as Array<[SettingKey, Variable<unknown>]>) {
    const flag = input.flags?.[variable.name]
    const env = input.env[variable.name]
    const kept = input.kept?.[variable.name]
    const source: Source = flag !== undefined ? "flag" : env !== undefined ? "env" : kept !== undefined ? "kept" : "default"
    // An empty ANTHROPIC_API_KEY means "no key"; for every other variable an empty value is a mistake.
    const raw = flag ?? env ?? kept ?? variable.default()
    const parsed = variable.parse(raw)
    if (Either.isLeft(parsed)) {
      return Either.left(
        new ConfigInvalid({ variable: variable.name, value: raw, expected: parsed.left, source: source === "default" ? "env" : source })
      )
    }
    settings[key] = parsed.right
    sources.push({ name: variable.name, raw, source, description: variable.description, secret: variable.secret ?? false })
  }
  const s = settings as Settings
  if (s.minWarmWorkers > s.maxWarmWorkers) {
    return Either.left(
      new ConfigConflict({
        variables: ["MIN_WARM_WORKERS", "MAX_WARM_WORKERS"],
        detail: `MIN_WARM_WORKERS (${s.minWarmWorkers}) is greater than MAX_WARM_WORKERS (${s.maxWarmWorkers}): MIN_WARM_WORKERS must be at most MAX_WARM_WORKERS`
      })
    )
  }
  const tls = tlsRefusal(s.dockerHost, input.env)
  if (tls !== undefined) return Either.left(new ConfigConflict(tls))
  return Either.right({ settings: s, sources })
}

export const variableNames = (): ReadonlyArray<string> => Object.values(VARIABLES).map((x) => x.name)
