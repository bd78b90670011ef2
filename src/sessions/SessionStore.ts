/** Session records on disk: HAL9000_HOME/sessions/<name>.json. Unreadable or foreign files are reported, never fatal. */
import { Effect, Either } from "effect"
import { basename, join } from "node:path"
import { readJsonDir, removeFile, writeJsonAtomic } from "../state/atomicJson.ts"
import { decodeRecord, type SessionRecord } from "./record.ts"

export const sessionsDir = (home: string) => join(home, "sessions")
export const recordPath = (home: string, name: string) => join(sessionsDir(home), `${name}.json`)

export interface Skipped {
  readonly file: string
  readonly reason: string
}

export const readRecords = (home: string, instance: string) =>
  Effect.map(readJsonDir(sessionsDir(home)), (entries) => {
    const records: Array<SessionRecord> = []
    const skipped: Array<Skipped> = []
    for (const { file, read } of entries) {
      if (read._tag === "corrupt") {
        skipped.push({ file, reason: read.reason })
        continue
      }
      const decoded = decodeRecord(read.value)
      if (Either.isLeft(decoded)) {
        skipped.push({ file, reason: "not a claudy session record" })
        continue
      }
      const r = decoded.right
      if (r.instance !== instance) continue // another instance sharing this HAL9000_HOME
      if (`${r.name}.json` !== basename(file)) {
        skipped.push({ file, reason: `names session '${r.name}' but is not ${r.name}.json` })
        continue
      }
      records.push(r)
    }
    return { records, skipped }
  })

export const writeRecord = (home: string, r: SessionRecord) => writeJsonAtomic(recordPath(home, r.name), r)
export const removeRecord = (home: string, name: string) => removeFile(recordPath(home, name))
