/**
 * The smallest Engine API client that works in Bun, Node and Deno: one JSON request, one answer.
 * dockerode costs ~30 ms of start-up (its ssh2 graph), so it is loaded only for streams (image build).
 * Bun: fetch with `{ unix }` (≈4 ms a call). Node/Deno: node:http with `socketPath`.
 * Neither transport has a timeout of its own: deadlines are the Engine's, per call, through the abort signal. Bun
 * documents an idle timeout for fetch (`timeout: false` turns it off); a `/wait` on a long session is idle for as long
 * as the session runs, so it is off (measured with Bun 1.4.5: a unix-socket fetch idle for 310 s completes either way;
 * test/faults/long-wait keeps it so across Bun versions).
 */
import type { EngineAddress } from "./address.ts"

export interface EngineResponse {
  readonly status: number
  readonly body: Uint8Array
}

export interface EngineRequest {
  readonly method: "GET" | "POST" | "PUT" | "DELETE" | "HEAD"
  readonly path: string
  readonly query?: Record<string, string | number | boolean | undefined>
  readonly body?: unknown
}

/** Thrown (and mapped to DockerUnavailable by the Engine) when no connection could be made at all. */
export class ConnectFailure {
  readonly _tag = "ConnectFailure"
  constructor(readonly reason: string) {}
}

export const API_VERSION = "v1.41"

const urlPath = (req: EngineRequest) => {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) params.set(k, String(v))
  const qs = params.toString()
  return `/${API_VERSION}${req.path}${qs ? `?${qs}` : ""}`
}

const describeConnectError = (e: unknown, address: EngineAddress): string => {
  const code = (e as { code?: string })?.code ?? ""
  const text = e instanceof Error ? e.message : String(e)
  if (code === "EACCES" || /permission denied|EACCES/i.test(text)) {
    return address._tag === "unix" ? `permission denied on ${address.socketPath}` : "permission denied"
  }
  if (code === "ENOENT" || /ENOENT|No such file|FailedToOpenSocket|does not exist/i.test(text)) {
    return address._tag === "unix" ? `no socket at ${address.socketPath}` : "no such host"
  }
  if (code === "ECONNREFUSED" || /ECONNREFUSED|Connection refused|ConnectionRefused/i.test(text)) return "connection refused"
  if (code === "ECONNRESET" || /ECONNRESET|socket hang up|closed unexpectedly|ConnectionClosed/i.test(text)) return "connection reset"
  return text
}

/** Bun's fetch of `req`, through the socket for a unix address; no connection at all is a ConnectFailure. */
const bunFetch = async (address: EngineAddress, req: EngineRequest, signal?: AbortSignal): Promise<Response> => {
  const init: RequestInit & { unix?: string; timeout?: boolean } = {
    method: req.method,
    timeout: false,
    ...(signal ? { signal } : {}),
    ...(req.body !== undefined ? { body: JSON.stringify(req.body), headers: { "content-type": "application/json" } } : {}),
    ...(address._tag === "unix" ? { unix: address.socketPath } : {})
  }
  try {
    return await fetch((address._tag === "unix" ? "http://docker" : address.baseUrl) + urlPath(req), init)
  } catch (e) {
    if (signal?.aborted) throw e
    throw new ConnectFailure(describeConnectError(e, address))
  }
}

/** node:http's target for an address. */
const nodeTarget = (address: EngineAddress) => {
  if (address._tag === "unix") return { socketPath: address.socketPath }
  const u = new URL(address.baseUrl)
  return { host: u.hostname, port: Number(u.port) }
}

const bunRequest = async (address: EngineAddress, req: EngineRequest, signal?: AbortSignal): Promise<EngineResponse> => {
  const res = await bunFetch(address, req, signal)
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) }
}

const nodeRequest = async (address: EngineAddress, req: EngineRequest, signal?: AbortSignal): Promise<EngineResponse> => {
  const http = await import("node:http")
  const payload = req.body !== undefined ? Buffer.from(JSON.stringify(req.body)) : undefined
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        ...nodeTarget(address),
        method: req.method,
        path: urlPath(req),
        ...(signal ? { signal } : {}),
        headers: payload ? { "content-type": "application/json", "content-length": payload.length } : {}
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: new Uint8Array(Buffer.concat(chunks)) }))
        res.on("error", reject)
      }
    )
    r.on("error", (e) => reject(signal?.aborted ? e : new ConnectFailure(describeConnectError(e, address))))
    if (payload) r.write(payload)
    r.end()
  })
}

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"

/** One call; aborting `signal` (a deadline, an interrupt) ends it and closes its connection. */
export const engineRequest = (address: EngineAddress, req: EngineRequest, signal?: AbortSignal): Promise<EngineResponse> =>
  isBun ? bunRequest(address, req, signal) : nodeRequest(address, req, signal)

/** What a streamed answer is told: its status (false: not wanted, the stream is closed), then its body's text. */
export interface StreamReader {
  readonly status: (code: number) => boolean
  readonly text: (piece: string) => void
}

const bunStream = async (address: EngineAddress, req: EngineRequest, signal: AbortSignal, on: StreamReader): Promise<void> => {
  const res = await bunFetch(address, req, signal)
  if (!on.status(res.status) || res.body === null) return void (await res.body?.cancel())
  const decoder = new TextDecoder()
  const reader = res.body.getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) on.text(decoder.decode(r.value, { stream: true }))
}

const nodeStream = async (address: EngineAddress, req: EngineRequest, signal: AbortSignal, on: StreamReader): Promise<void> => {
  const http = await import("node:http")
  return new Promise((resolve, reject) => {
    const r = http.request({ ...nodeTarget(address), method: req.method, path: urlPath(req), signal }, (res) => {
      if (!on.status(res.statusCode ?? 0)) {
        res.resume()
        return resolve()
      }
      res.setEncoding("utf8")
      res.on("data", on.text)
      res.on("end", resolve)
      res.on("error", reject)
    })
    r.on("error", (e) => reject(signal.aborted ? e : new ConnectFailure(describeConnectError(e, address))))
    r.end()
  })
}

/**
 * A streamed answer (the engine's events) until its body ends (resolves) or fails (rejects); aborting `signal` ends
 * it. Bun: fetch's body reader (node:http's parser and streams cost the control server ≈ 8 % of its time in a run of
 * spawns, profiled); Node/Deno: node:http.
 */
export const engineStream = (address: EngineAddress, req: EngineRequest, signal: AbortSignal, on: StreamReader): Promise<void> =>
  isBun ? bunStream(address, req, signal, on) : nodeStream(address, req, signal, on)

export const decodeText = (body: Uint8Array) => new TextDecoder().decode(body)
