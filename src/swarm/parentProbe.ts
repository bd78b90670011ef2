/**
 * ChromaDB's heartbeat and version on a swarm. Nothing is published on any host, so claudy asks from inside the
 * parent's task container (an exec through its node's engine), by the service's name on the overlay network: the
 * answer proves what a worker relies on (the name resolves, ChromaDB listens on the network), not only that it runs.
 */
import { Duration, Effect, Option, Schedule, Schema } from "effect"
import type { EngineShape } from "../docker/Engine.ts"
import { demuxFrames } from "../docker/logStream.ts"
import type { Heartbeat } from "../daemon/chroma.ts"

const ExecCreated = Schema.Struct({ Id: Schema.String })
const ExecInspect = Schema.Struct({ ExitCode: Schema.NullOr(Schema.Number) })

/** Run `cmd` in a running container and wait for it: its exit code and its output (stdout and stderr). */
export const execIn = (engine: EngineShape, containerId: string, cmd: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const { Id } = yield* engine.call.json(
      "create exec",
      { method: "POST", path: `/containers/${encodeURIComponent(containerId)}/exec`, body: { AttachStdout: true, AttachStderr: true, Cmd: cmd } },
      ExecCreated
    )
    // Without an Upgrade header the engine streams the output in the answer and ends it when the process ends.
    const res = yield* engine.call.expect("start exec", { method: "POST", path: `/exec/${Id}/start`, body: { Detach: false, Tty: false } }, [200])
    const { ExitCode } = yield* engine.call.json("inspect exec", { method: "GET", path: `/exec/${Id}/json` }, ExecInspect)
    return { code: ExitCode ?? -1, output: demuxFrames(res.body) }
  })

/** The shell line run in the parent: the heartbeat's HTTP status and time, then the version (the image has curl). */
export const probeScript = (url: string) =>
  `curl -sS -o /dev/null --max-time 2 -w '%{http_code} %{time_total}\\n' ${url}/api/v2/heartbeat && curl -sS --max-time 2 ${url}/api/v2/version`

export interface Probe extends Heartbeat {
  readonly version?: string
}

/** What the probe printed, read (pure): `200 0.0021` then `"1.0.0"`; anything else is a failed heartbeat. */
export const parseProbe = (code: number, output: string): Probe => {
  const [first = "", second = ""] = output.trim().split("\n")
  const m = /^(\d{3}) ([0-9.]+)$/.exec(first.trim())
  if (code !== 0 || !m || m[1] !== "200") {
    // curl's own reason (its stderr) when it has one, else the HTTP status it got
    const reason = /^curl: \(\d+\) (.*)$/m.exec(output)?.[1] ?? (m ? `HTTP ${m[1]}` : undefined)
    return { ok: false, ms: 0, error: reason ?? `probe exited ${code}` }
  }
  let version: string | undefined
  try {
    version = String(JSON.parse(second))
  } catch {
    version = undefined
  }
  return { ok: true, ms: Math.round(Number(m[2]) * 10_000) / 10, ...(version ? { version } : {}) }
}

/** One heartbeat from inside the parent's container; an engine that does not answer is a failed heartbeat too. */
export const probeParent = (engine: EngineShape, containerId: string, url: string): Effect.Effect<Probe> =>
  execIn(engine, containerId, ["sh", "-c", probeScript(url)]).pipe(
    Effect.map(({ code, output }) => parseProbe(code, output)),
    Effect.catchAll((e) => Effect.succeed<Probe>({ ok: false, ms: 0, error: e.message }))
  )

/** Probe until ChromaDB answers (`None` when it did not within `seconds`); an exec costs ≈ 0.1 s, so 100 ms apart. */
export const waitForProbe = (engine: EngineShape, containerId: string, url: string, seconds: number) =>
  probeParent(engine, containerId, url).pipe(
    Effect.filterOrFail((p) => p.ok),
    Effect.retry(Schedule.spaced(Duration.millis(100))),
    Effect.timeout(Duration.seconds(seconds)),
    Effect.option,
    Effect.map(Option.getOrUndefined)
  )
