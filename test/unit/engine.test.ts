/**
 * The engine boundary against a fake engine on a unix socket (the only way to get a malformed or a missing answer on
 * demand): a deadline names the call, a malformed body is a typed error, transient failures are retried and 4xx never.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { Duration, Effect, Either } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describeError } from "../../src/cli/report.ts"
import { EXIT } from "../../src/cli/exitCodes.ts"
import { engineAt, isTransient } from "../../src/docker/Engine.ts"
import { DockerApiError, DockerTimeout, DockerUnavailable } from "../../src/domain/errors.ts"

const dir = mkdtempSync(join(tmpdir(), "claudy-fake-engine-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
/** A fake engine answering with `handler`; counts the requests it got. */
const fake = async (handler: (req: IncomingMessage, res: ServerResponse, count: number) => void) => {
  const socketPath = join(dir, `e${n++}.sock`)
  let count = 0
  const server = createServer((req, res) => handler(req, res, ++count))
  await new Promise<void>((r) => server.listen(socketPath, r))
  const engine = engineAt({ _tag: "unix", socketPath, display: `unix://${socketPath}` }, Duration.millis(300))
  return { engine, count: () => count, close: () => new Promise<void>((r) => server.close(() => r())) }
}

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.either(e))

describe("engine boundary", () => {
  test("a call without an answer ends at its deadline with DockerTimeout naming the call (exit 8)", async () => {
    const f = await fake(() => undefined) // never answers
    const r = await run(f.engine.inspectContainer("x"))
    if (Either.isRight(r)) throw new Error("expected a timeout")
    const e = r.left as DockerTimeout
    expect(e._tag).toBe("DockerTimeout")
    expect(e.message).toContain("did not answer 'inspect container'")
    expect(describeError(e).exitCode).toBe(EXIT.timeout)
    expect(f.count()).toBe(1) // a timeout is not retried
    await f.close().catch(() => undefined)
  })

  test("a malformed body is DockerResponseInvalid naming the call and the field, not a crash", async () => {
    const f = await fake((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ Id: "abc", Name: "/x", Image: "i", Created: "c", State: { Running: "yes" }, Config: {}, HostConfig: {} }))
    })
    const r = await run(f.engine.inspectContainer("x"))
    expect(Either.isLeft(r)).toBe(true)
    const e = (r as Either.Left<{ _tag: string; message: string }, unknown>).left
    expect(e._tag).toBe("DockerResponseInvalid")
    expect(e.message).toContain("'inspect container'")
    expect(e.message).toContain("Running")
    const notJson = await fake((_req, res) => {
      res.writeHead(200)
      res.end("<html>proxy error</html>")
    })
    const r2 = await run(notJson.engine.listContainers({}))
    expect(Either.isLeft(r2) && r2.left._tag).toBe("DockerResponseInvalid")
    await f.close()
    await notJson.close()
  })

  test("extra fields are dropped and the answer decoded", async () => {
    const f = await fake((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify([{ Id: "a", Names: ["/n"], Image: "i", State: "running", Status: "Up", Labels: {}, Created: 1, Extra: { x: 1 } }]))
    })
    const r = await run(f.engine.listContainers({}))
    expect(Either.getOrThrow(r)).toEqual([{ Id: "a", Names: ["/n"], Image: "i", State: "running", Status: "Up", Labels: {}, Created: 1 }])
    await f.close()
  })

  test("a 503 on a read is retried until it answers; a 4xx and a failed write are never retried", async () => {
    const flaky = await fake((_req, res, count) => {
      if (count < 3) {
        res.writeHead(503)
        return res.end('{"message":"restarting"}')
      }
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ Version: "20.10", ApiVersion: "1.41" }))
    })
    expect(Either.getOrThrow(await run(flaky.engine.version)).Version).toBe("20.10")
    expect(flaky.count()).toBe(3)
    const conflict = await fake((_req, res) => {
      res.writeHead(409)
      res.end('{"message":"name in use"}')
    })
    const r = await run(conflict.engine.createContainer("n", {}))
    expect(Either.isLeft(r) && r.left._tag).toBe("DockerApiError")
    expect(conflict.count()).toBe(1)
    const busyWrite = await fake((_req, res) => {
      res.writeHead(503)
      res.end("{}")
    })
    await run(busyWrite.engine.startContainer("x"))
    expect(busyWrite.count()).toBe(1)
    await Promise.all([flaky.close(), conflict.close(), busyWrite.close()])
  })

  test("what counts as transient (pure)", () => {
    const refused = new DockerUnavailable({ address: "a", reason: "connection refused" })
    const reset = new DockerUnavailable({ address: "a", reason: "connection reset" })
    const missing = new DockerUnavailable({ address: "a", reason: "no socket at /x" })
    expect(isTransient(refused, "POST")).toBe(true) // nothing reached the engine
    expect(isTransient(reset, "GET")).toBe(true)
    expect(isTransient(reset, "POST")).toBe(false) // it may have been applied
    expect(isTransient(missing, "GET")).toBe(false)
    expect(isTransient(new DockerApiError({ operation: "o", status: 404, detail: "" }), "GET")).toBe(false)
    expect(isTransient(new DockerApiError({ operation: "o", status: 500, detail: "" }), "GET")).toBe(false)
    expect(isTransient(new DockerApiError({ operation: "o", status: 502, detail: "" }), "GET")).toBe(true)
    expect(isTransient(new DockerTimeout({ address: "a", operation: "o", seconds: 1 }), "GET")).toBe(false)
  })
})
