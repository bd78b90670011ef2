/** `claudy [--via-parent] [PATH] …` and its explicit form `claudy spawn …`: the same options, one handler. */
import { Args, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { SilentExit, UsageError } from "../domain/errors.ts"
import { Settings } from "../config/Settings.ts"
import { invocation } from "../config/invocation.ts"
import { Engine } from "../docker/Engine.ts"
import { attachSession } from "../spawn/attach.ts"
import { stdinFrame } from "../swarm/handoffProtocol.ts"
import { type SpawnRequest, type SpawnResult, Spawner } from "../spawn/Spawner.ts"
import { setOption, withExamples } from "./common.ts"
import { AUTHENTICATION, SESSIONS } from "./helpSections.ts"
import { SessionCommand } from "./sessionCommand.ts"
import { withSet } from "./services.ts"

const optionalText = (name: string, pseudoName: string, description: string) =>
  Options.text(name).pipe(Options.withPseudoName(pseudoName), Options.withDescription(description), Options.optional)

export const spawnDescription = withExamples(
  "Spawn a worker on a project: claudy spawn --via-parent [--detach] [PATH] [-- CMD ARGS…] (`spawn` may be left out). " +
    `${SESSIONS} ${AUTHENTICATION}`,
  [
    ["claudy --via-parent ~/src/app", "Claude Code on ~/src/app, attached to your terminal, sharing the parent's ChromaDB"],
    ["claudy --via-parent --detach --name review ~/src/app", "the same in the background, as session 'review' (claudy sessions attach review)"],
    ["claudy --via-parent --memory 8g --cpus 4 .", "the current directory with more memory and CPUs than WORKER_MEMORY/WORKER_CPUS"],
    ["claudy --via-parent . -- make test", "another command instead of claude; claudy exits with its exit code"]
  ]
)

export const spawnConfig = {
  viaParent: Options.boolean("via-parent").pipe(
    Options.withDescription("Join the parent's network namespace: ChromaDB at localhost:CHROMADB_PORT (without it: own network, no ChromaDB)")
  ),
  detach: Options.boolean("detach").pipe(
    Options.withAlias("d"),
    Options.withDescription("Run in the background: print the session name and return once the worker runs")
  ),
  name: optionalText("name", "NAME", "Session name (default: the project's own, <base>-<hash of its path>): a-z, 0-9 and '-', at most 40"),
  fresh: Options.boolean("new").pipe(
    Options.withDescription("Start another session beside the project's running one (default: attach to it, or report it with --detach)")
  ),
  memory: optionalText("memory", "SIZE", "Memory limit in Docker syntax, e.g. 512m, 8g (default WORKER_MEMORY)"),
  cpus: optionalText("cpus", "CPUS", "CPU limit, e.g. 1.5 (default WORKER_CPUS)"),
  pidsLimit: optionalText("pids-limit", "N", "Maximum number of processes (default WORKER_PIDS_LIMIT)"),
  noLimits: Options.boolean("no-limits").pipe(Options.withDescription("Run without memory, cpu and pids limits (recorded and logged)")),
  image: optionalText("image", "IMAGE", "Worker image (default WORKER_IMAGE, or the profile's image)"),
  profile: optionalText(
    "profile",
    "NAME",
    "Language profile: base, python, node, java or a custom one (default: detected from the project's files; claudy profiles list)"
  ),
  node: optionalText("node", "NODE", "HAL9000_BACKEND=swarm: run the session on this node (hostname; default: any node that has the project)"),
  env: Options.text("e").pipe(
    Options.withAlias("env"),
    Options.withPseudoName("KEY=VALUE"),
    Options.repeated,
    Options.withDescription("Environment variable for the session, KEY=VALUE (repeatable)")
  ),
  set: setOption,
  path: Args.text({ name: "PATH" }).pipe(
    Args.withDescription("Project directory mounted at /workspace (default: the current directory). After --: the command to run instead of claude"),
    Args.optional
  )
}

export type SpawnArgs = {
  readonly viaParent: boolean
  readonly detach: boolean
  readonly name: Option.Option<string>
  readonly fresh: boolean
  readonly memory: Option.Option<string>
  readonly cpus: Option.Option<string>
  readonly pidsLimit: Option.Option<string>
  readonly noLimits: boolean
  readonly image: Option.Option<string>
  readonly profile: Option.Option<string>
  readonly node: Option.Option<string>
  readonly env: ReadonlyArray<string>
  readonly set: ReadonlyArray<string>
  readonly path: Option.Option<string>
}

/** The project's session runs already: attach to it and say so, or (detached) report it and succeed. */
const reattach = (r: Extract<SpawnResult, { _tag: "running" }>, detach: boolean, command: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const ignored = command.length > 0 ? ` (the command after -- is not run: it runs only in a new session)` : ""
    if (detach) {
      yield* Console.error(
        `session ${r.session} already runs for ${r.project}: not starting another${ignored}. ` +
          `Attach: claudy sessions attach ${r.session}; another one beside it: --new`
      )
      return yield* Console.log(r.session)
    }
    yield* Console.error(`session ${r.session} already runs for ${r.project}: attaching${ignored} (detach: ctrl-p ctrl-q; another session: --new)`)
    const result = yield* attachSession(r.address ?? (yield* Engine).address, r.session, r.containerId, {
      tty: r.tty,
      // on a swarm node: see src/swarm/spawn.ts (the attach stays open; without a TTY, the input goes in frames)
      keepStdinOpen: r.address !== undefined,
      ...(r.address !== undefined && !r.tty ? { frameStdin: stdinFrame } : {})
    })
    if (result._tag === "detached") return yield* Console.error(`\ndetached from session ${r.session}; it runs on (claudy sessions attach ${r.session})`)
    if (result.code !== 0) return yield* new SilentExit({ code: result.code })
  })

/** The local spawner, or on a swarm the swarm's (loaded only there: it is no part of a local spawn's start-up). */
const spawnOn = (request: SpawnRequest) =>
  Effect.gen(function* () {
    const { settings } = yield* Settings
    if (settings.backend === "swarm") {
      const { spawnOnSwarm } = yield* Effect.promise(() => import("../swarm/spawn.ts"))
      const { SwarmSessions } = yield* Effect.promise(() => import("../swarm/sessions.ts"))
      return yield* spawnOnSwarm(request).pipe(Effect.provide(SwarmSessions.layer))
    }
    if (request.node !== undefined) {
      return yield* new UsageError({ detail: "--node places a session on a swarm node", fix: "leave --node out, or use HAL9000_BACKEND=swarm" })
    }
    return yield* (yield* Spawner).spawn(request)
  })

export const spawnHandler = (a: SpawnArgs) =>
  Effect.gen(function* () {
    const command = yield* SessionCommand
    return yield* withSet(
      a.set,
      Effect.gen(function* () {
        const { cwd } = yield* invocation
        const request: SpawnRequest = {
          path: Option.getOrElse(a.path, () => "."),
          cwd,
          name: Option.getOrUndefined(a.name),
          fresh: a.fresh,
          viaParent: a.viaParent,
          detach: a.detach,
          image: Option.getOrUndefined(a.image),
          profile: Option.getOrUndefined(a.profile),
          env: a.env,
          command,
          limits: {
            memory: Option.getOrUndefined(a.memory),
            cpus: Option.getOrUndefined(a.cpus),
            pidsLimit: Option.getOrUndefined(a.pidsLimit),
            noLimits: a.noLimits
          },
          node: Option.getOrUndefined(a.node)
        }
        const r = yield* spawnOn(request)
        switch (r._tag) {
          case "detached":
            return yield* Console.log(r.session)
          case "running":
            return yield* reattach(r, a.detach, command)
          case "detached-by-user":
            return yield* Console.error(`\ndetached from session ${r.session}; it runs on (claudy sessions attach ${r.session})`)
          case "exited":
            if (r.code !== 0) return yield* new SilentExit({ code: r.code })
        }
      })
    )
  })
