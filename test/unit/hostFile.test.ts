import { afterAll, describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describeError, renderReport } from "../../src/cli/report.ts"
import { EXIT } from "../../src/cli/exitCodes.ts"
import { writeJsonAtomic } from "../../src/state/atomicJson.ts"
import { createExclusive, fixFor, fsError, hostFile, listDir } from "../../src/state/hostFile.ts"

const dir = mkdtempSync(join(tmpdir(), "claudy-unit-hostfile-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** An error as Node and Bun throw it. */
const sysError = (code: string, text: string, syscall: string, path: string) =>
  Object.assign(new Error(`${code}: ${text}, ${syscall} '${path}'`), { code, syscall, path })

describe("host file errors", () => {
  test.each([
    ["ENOSPC", "free space on the disk that holds /h/pool (df -h /h/pool)"],
    ["EDQUOT", "free space on the disk that holds /h/pool"],
    ["EROFS", "/h/pool is on a read-only file system: remount it read-write"],
    ["EACCES", "ls -ld /h/pool"],
    ["EPERM", "chown or chmod"],
    ["ENOENT", "/h/pool or a directory above it is missing"],
    ["EEXIST", "move it aside"],
    ["EMFILE", "ulimit -n"],
    ["EIO", "reports I/O errors"]
  ])("%s has its own fix", (code, fix) => expect(fixFor(code, "/h/pool/x")).toContain(fix))
  test("an unknown cause has no fix of its own (the report's general one applies)", () => {
    expect(fixFor("EWHATEVER", "/x")).toBeUndefined()
    expect(fixFor(undefined, "/x")).toBeUndefined()
  })

  test("a thrown fs error becomes a StateError naming the path, the cause in words, its code and the fix", () => {
    const e = fsError("/h/sessions/a.json", "write")(sysError("ENOSPC", "no space left on device", "write", "/h/sessions/a.json"))
    expect(e._tag).toBe("StateError")
    expect(e.code).toBe("ENOSPC")
    expect(e.message).toBe("Cannot write /h/sessions/a.json: no space left on device (ENOSPC)")
    const r = describeError(e)
    expect(r.exitCode).toBe(EXIT.failure)
    expect(renderReport(r)).toContain("Fix: free space on the disk that holds /h/sessions (df -h /h/sessions)")
  })
  test("the file the system call named is kept when it is not the path the operation is about", () => {
    const e = fsError("/h/pool/slots/s1", "write the session into")(sysError("EROFS", "read-only file system", "open", "/h/pool/slots/s1/session.sh"))
    expect(e.message).toBe("Cannot write the session into /h/pool/slots/s1: read-only file system (EROFS, open /h/pool/slots/s1/session.sh)")
  })
  test("an error without a code keeps its message and gets the general fix", () => {
    const e = fsError("/x", "write")(new Error("tar: broken"))
    expect(e.code).toBeUndefined()
    expect(describeError(e).hint).toContain("HAL9000_HOME")
  })

  test("hostFile turns a real throw into a failure, never a defect", () => {
    const r = Effect.runSync(Effect.either(hostFile(join(dir, "no", "such"), "write", () => writeFileSync(join(dir, "no", "such"), "x"))))
    expect(Either.isLeft(r) && r.left.code).toBe("ENOENT")
  })
  test("createExclusive: true when it created, false when the name is taken, a StateError otherwise", () => {
    const file = join(dir, "lock")
    const create = createExclusive(file, "create", () => writeFileSync(file, "1", { flag: "wx" }))
    expect(Effect.runSync(create)).toBe(true)
    expect(Effect.runSync(create)).toBe(false)
    const bad = createExclusive(join(dir, "no", "lock"), "create", () => writeFileSync(join(dir, "no", "lock"), "1", { flag: "wx" }))
    const r = Effect.runSync(Effect.either(bad))
    expect(Either.isLeft(r) && r.left.code).toBe("ENOENT")
  })
  test("listDir: a missing directory is empty, a file in its place is an error", () => {
    expect(Effect.runSync(listDir(join(dir, "absent"), "list"))).toEqual([])
    writeFileSync(join(dir, "plain"), "")
    const r = Effect.runSync(Effect.either(listDir(join(dir, "plain"), "list")))
    expect(Either.isLeft(r) && r.left.code).toBe("ENOTDIR")
    expect(existsSync(dir) && readdirSync(dir).includes("plain")).toBe(true)
  })
})

describe("atomic JSON records", () => {
  test("written whole (0600, the directory made 0700), replaced whole, no temp file left", async () => {
    const path = join(dir, "records", "s.json")
    await Effect.runPromise(writeJsonAtomic(path, { n: 1 }))
    await Effect.runPromise(writeJsonAtomic(path, { n: 2 }))
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ n: 2 })
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, "records")).mode & 0o777).toBe(0o700)
    expect(readdirSync(join(dir, "records"))).toEqual(["s.json"])
  })
  test("a write that cannot be made is a StateError naming the record, and leaves nothing behind", async () => {
    writeFileSync(join(dir, "a-file"), "")
    const path = join(dir, "a-file", "s.json") // its directory is a file (Bun: EEXIST, Node: ENOTDIR)
    const r = await Effect.runPromise(Effect.either(writeJsonAtomic(path, { n: 1 })))
    expect(Either.isLeft(r) && r.left._tag === "StateError" && r.left.path === path && ["EEXIST", "ENOTDIR"].includes(r.left.code ?? "")).toBe(true)
    expect(readdirSync(dir).filter((n) => n.includes(".tmp"))).toEqual([])
  })
})
