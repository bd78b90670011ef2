/** Operations: doctor, debug-bundle, backup (list), restore, reset. */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { SilentExit, UsageError } from "../domain/errors.ts"
import { backup, listBackups, restore } from "../ops/backup.ts"
import { debugBundle } from "../ops/debugBundle.ts"
import { doctor } from "../ops/doctor.ts"
import { reset } from "../ops/reset.ts"
import { jsonOption, printJson, setOption, table, withExamples } from "./common.ts"
import { withSet } from "./services.ts"
import { byBackend, localOnly } from "../swarm/backendSeam.ts"

/** The swarm forms of backup and restore (src/swarm/backup.ts), loaded only with HAL9000_BACKEND=swarm. */
const swarmBackups = Effect.promise(() => import("../swarm/backup.ts"))

const doctorCommand = Command.make("doctor", { json: jsonOption, set: setOption }, ({ json, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const checks = yield* doctor
      if (json) yield* printJson({ ok: checks.every((c) => c.level !== "fail"), checks })
      else {
        yield* Console.log(
          table(checks.map((c) => [c.level === "ok" ? "ok" : c.level === "warn" ? "WARN" : "FAIL", c.name, c.detail + (c.fix ? `  -> ${c.fix}` : "")]))
        )
      }
      if (checks.some((c) => c.level === "fail")) return yield* new SilentExit({ code: 1 })
    })
  )
).pipe(Command.withDescription("Check the engine, limits, disk, port, images, volumes, HAL9000_HOME, parent and pool manager (exit 1 on any FAIL)"))

const bundleCommand = Command.make(
  "debug-bundle",
  { out: Options.file("o").pipe(Options.withAlias("output"), Options.optional, Options.withDescription("Where to write the .tar.gz")), set: setOption },
  ({ out, set }) =>
    withSet(
      set,
      Effect.gen(function* () {
        yield* localOnly(
          "debug-bundle",
          "it collects the local parent's and workers' logs and objects from this host's engine",
          "collect a swarm's state with: claudy doctor --json, claudy daemon status --json, claudy daemon logs, and docker service ps / docker service logs on the manager"
        )
        const path = yield* debugBundle(Option.getOrUndefined(out))
        yield* Console.log(`Debug bundle: ${path}`)
      })
    )
).pipe(Command.withDescription("Write one tar.gz with logs, labelled objects, statuses, redacted config and doctor output"))

const destOption = Options.directory("dest", { exists: "either" }).pipe(
  Options.withPseudoName("DIR"),
  Options.optional,
  Options.withDescription("Directory that holds backups (default: next to HAL9000_HOME; created 0700 when missing)")
)

const printBackups = (dest: Option.Option<string>, json: boolean) =>
  Effect.gen(function* () {
    const list = yield* listBackups(Option.getOrUndefined(dest))
    if (json) return yield* printJson(list)
    if (list.length === 0) return yield* Console.log("No backups. Take one with: claudy backup")
    yield* Console.log(
      table([
        ["BACKUP", "CREATED", "SIZE", "COMPLETE"],
        ...list.map((b) => [b.path, b.created_at ?? "-", `${(b.bytes / 1024 / 1024).toFixed(1)} MB`, b.complete ? "yes" : "NO (no manifest)"])
      ])
    )
  })

const backupList = Command.make("list", { dest: destOption, json: jsonOption, set: setOption }, ({ dest, json, set }) =>
  withSet(set, printBackups(dest, json))
).pipe(Command.withDescription("List backups, newest first"))

const backupCommand = Command.make(
  "backup",
  {
    dest: destOption,
    listBackups: Options.boolean("list-backups").pipe(Options.withDescription("Same as: claudy backup list")),
    json: jsonOption,
    set: setOption
  },
  ({ dest, listBackups: list, json, set }) =>
    withSet(
      set,
      list
        ? printBackups(dest, json)
        : Effect.gen(function* () {
            const r = yield* byBackend(backup(Option.getOrUndefined(dest)), () =>
              Effect.flatMap(swarmBackups, (m) => m.swarmBackup(Option.getOrUndefined(dest)))
            )
            if (json) return yield* printJson(r)
            yield* Console.log(`Backup written to ${r.dir}`)
            for (const v of r.manifest.volumes) yield* Console.log(`  ${v.volume}: ${v.file} ${(v.bytes / 1024).toFixed(0)} KiB sha256 ${v.sha256.slice(0, 16)}…`)
            yield* Console.log(`Restore with: claudy restore ${r.dir}`)
          })
    )
).pipe(
  Command.withDescription(
    withExamples("Back up the volumes and HAL9000_HOME state (the parent is stopped while archiving, then started)", [
      ["claudy backup", "a new backup next to HAL9000_HOME"],
      ["claudy backup --dest /srv/backups/claudy", "into that directory (created 0700 when missing)"],
      ["claudy backup list", "the backups, newest first; restore one with: claudy restore DIR"]
    ])
  ),
  Command.withSubcommands([backupList])
)

const restoreCommand = Command.make("restore", { backup: Args.text({ name: "BACKUP" }), set: setOption }, ({ backup: path, set }) =>
  withSet(
    set,
    Effect.gen(function* () {
      const r = yield* byBackend(restore(path), () => Effect.flatMap(swarmBackups, (m) => m.swarmRestore(path)))
      yield* Console.log(`Restored ${r.dir} (taken ${r.manifest.created_at}); ChromaDB answers at ${r.url}`)
    })
  )
).pipe(Command.withDescription("Verify a backup's checksums, then restore volumes and state and start the parent"))

const resetCommand = Command.make(
  "reset",
  {
    volumes: Options.boolean("volumes").pipe(Options.withDescription("Also remove the volumes (ChromaDB data!); needs --yes")),
    images: Options.boolean("images").pipe(Options.withDescription("Also remove the images claudy built")),
    force: Options.boolean("force").pipe(Options.withDescription("Emergency: kill instead of stopping (a stuck parent)")),
    yes: Options.boolean("yes").pipe(Options.withDescription("Confirm --volumes")),
    set: setOption
  },
  ({ volumes, images, force, yes, set }) =>
    withSet(
      set,
      Effect.gen(function* () {
        yield* localOnly(
          "reset",
          "it removes the containers and volumes of this host's engine",
          "on a swarm: claudy daemon stop, then remove the instance's services yourself: docker service rm $(docker service ls -q --filter label=io.hal9000.instance=INSTANCE)"
        )
        if (volumes && !yes) {
          return yield* new UsageError({
            detail: "reset --volumes deletes the ChromaDB, memory bank and plugin data",
            fix: "take a backup first (claudy backup), then run: claudy reset --volumes --yes"
          })
        }
        const r = yield* reset({ volumes, images, force })
        if (r.poolManagerStopped !== null) yield* Console.log(`Stopped the pool manager (pid ${r.poolManagerStopped})`)
        if (r.supervisor !== null) {
          yield* Console.error(
            `claudy daemon run (pid ${r.supervisor}) keeps running: it starts the parent and the pool again; stop the service first (systemctl stop claudy) for a reset that stays`
          )
        }
        yield* Console.log(r.containers.length > 0 ? `Removed containers: ${r.containers.join(", ")}` : "No containers to remove")
        if (volumes) yield* Console.log(r.volumes.length > 0 ? `Removed volumes: ${r.volumes.join(", ")}` : "No volumes to remove")
        else yield* Console.log("Volumes kept (data is safe); start again with: claudy daemon start")
        if (images) yield* Console.log(r.images.length > 0 ? `Removed images: ${r.images.join(", ")}` : "No claudy-built images to remove")
      })
    )
).pipe(Command.withDescription("Remove claudy's sessions, warm workers and parent (this HAL9000_HOME only); volumes kept unless --volumes --yes"))

export const opsCommands = {
  doctor: doctorCommand,
  "debug-bundle": bundleCommand,
  backup: backupCommand,
  restore: restoreCommand,
  reset: resetCommand
} as const
