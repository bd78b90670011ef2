/**
 * `claudy debug-bundle`: one tar.gz to hand to someone — logs, labelled objects, statuses, redacted config, engine
 * version, doctor. Every collected text is scrubbed of the API key's value as a last line of defence.
 */
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Settings } from "../config/Settings.ts"
import { Parent } from "../daemon/Parent.ts"
import { SUPERVISOR_LOG } from "../daemon/supervisorLog.ts"
import { ownerFilter } from "../domain/labels.ts"
import { parentName } from "../domain/names.ts"
import { Engine } from "../docker/Engine.ts"
import { managerLog } from "../pool/files.ts"
import { poolStatus } from "../pool/status.ts"
import { fsError, hostFile } from "../state/hostFile.ts"
import { ownerOf } from "../state/home.ts"
import { stamp } from "./backup.ts"
import { doctor } from "./doctor.ts"

const asText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v, null, 2))

export const debugBundle = (out?: string) =>
  Effect.gen(function* () {
    const engine = yield* Engine
    const parent = yield* Parent
    const { settings, sources } = yield* Settings
    const owner = ownerOf(settings)
    const name = `hal9000-debug-${stamp(new Date())}`
    const target = resolve(out ?? `${name}.tar.gz`)
    const secret = settings.anthropicApiKey
    const scrub = (t: string) => (secret.length >= 4 ? t.split(secret).join("<redacted>") : t)
    const files: Record<string, unknown> = {}
    const attempt = <A, R>(label: string, e: Effect.Effect<A, unknown, R>) =>
      e.pipe(Effect.catchAll((err) => Effect.succeed(`${label} failed: ${err instanceof Error ? err.message : String(err)}`)))

    files["parent.log"] = yield* attempt("docker logs", engine.containerLogs(parentName(settings.instance), 2000))
    files["containers.json"] = yield* attempt("container list", engine.listContainers(ownerFilter(owner)))
    files["volumes.json"] = yield* attempt("volume list", engine.listVolumes(ownerFilter(owner)))
    files["engine-version.json"] = yield* attempt("engine version", engine.version)
    files["daemon-status.json"] = yield* attempt("daemon status", parent.status)
    files["pool-status.json"] = yield* attempt("pool status", poolStatus)
    files["doctor.json"] = yield* attempt("doctor", doctor)
    files["config.json"] = Object.fromEntries(
      sources.map((s) => [s.name, { value: s.secret ? (s.raw === "" ? "(unset)" : "(set, redacted)") : s.raw, source: s.source }])
    )
    const work = yield* Effect.acquireRelease(
      hostFile(join(tmpdir(), "claudy-debug-*"), "create a work directory", () => mkdtempSync(join(tmpdir(), "claudy-debug-"))),
      (w) => Effect.ignore(hostFile(w, "remove", () => rmSync(w, { recursive: true, force: true })))
    )
    const dir = join(work, name)
    return yield* Effect.try({
      try: () => {
        mkdirSync(dir, { recursive: true })
        for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), scrub(asText(content)))
        for (const [src, dst] of [[managerLog(settings.home), "pool-manager.log"], [join(settings.home, "logs", SUPERVISOR_LOG), SUPERVISOR_LOG]] as const) {
          if (existsSync(src)) {
            copyFileSync(src, join(dir, dst))
            writeFileSync(join(dir, dst), scrub(readFileSync(join(dir, dst), "utf8")))
          } else {
            writeFileSync(join(dir, dst), `(no ${dst} at ${src})\n`)
          }
        }
        execFileSync("tar", ["czf", target, "-C", work, name])
        return target
      },
      catch: fsError(target, "write debug bundle")
    })
  }).pipe(Effect.scoped)
