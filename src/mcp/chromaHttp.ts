/**
 * ChromaDB's v2 HTTP API (the parent's real server), spoken with fetch. Not the chromadb JS client: it brings its own
 * embedding-function registry and a generated API layer (dozens of modules to load on every MCP server start) for
 * ten JSON calls whose shapes are ChromaDB's documented API. Every call fails with a ToolFailure that says what.
 */
import { Effect } from "effect"
import { failure, ToolFailure } from "./errors.ts"

export interface Collection {
  readonly id: string
  readonly name: string
  readonly metadata: Record<string, unknown> | null
}

type Method = "GET" | "POST" | "PUT" | "DELETE"

/** ChromaDB's own error text ({"error": "NotFoundError", "message": "…"}), or the body as it came. */
const errorText = (body: string) => {
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown }
    return typeof j.message === "string" ? j.message : body
  } catch {
    return body
  }
}

export const chromaClient = (baseUrl: string) => {
  const base = `${baseUrl.replace(/\/+$/, "")}/api/v2/tenants/default_tenant/databases/default_database`
  const call = <A>(method: Method, path: string, body?: unknown): Effect.Effect<A, ToolFailure> =>
    Effect.tryPromise({
      try: (signal) =>
        fetch(`${base}${path}`, {
          method,
          signal,
          ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
        }),
      catch: (e) =>
        failure(
          `ChromaDB at ${baseUrl} does not answer (${e instanceof Error ? e.message : String(e)}): is the parent running? ` +
            "On the host: claudy daemon status; a worker reaches it only when spawned with --via-parent"
        )
    }).pipe(
      Effect.flatMap((res) =>
        Effect.promise(() => res.text()).pipe(
          Effect.flatMap((text) =>
            res.ok
              ? Effect.succeed((text === "" ? null : JSON.parse(text)) as A)
              : Effect.fail(failure(`ChromaDB refused ${method} ${path.split("?")[0]} (${res.status}): ${errorText(text)}`, res.status))
          )
        )
      )
    )
  const records = (id: string, op: "add" | "update" | "delete" | "get" | "query", body: unknown) =>
    call<Record<string, unknown>>("POST", `/collections/${id}/${op}`, body)
  return {
    baseUrl,
    list: (limit?: number, offset?: number) => {
      const q = new URLSearchParams()
      if (limit !== undefined) q.set("limit", String(limit))
      if (offset !== undefined) q.set("offset", String(offset))
      return call<Array<Collection>>("GET", `/collections${q.size > 0 ? `?${q}` : ""}`)
    },
    create: (name: string, metadata: Record<string, unknown>, getOrCreate: boolean) =>
      call<Collection>("POST", "/collections", { name, metadata, get_or_create: getOrCreate }),
    /** The collection, or a ToolFailure naming it when it does not exist. */
    get: (name: string) => call<Collection>("GET", `/collections/${encodeURIComponent(name)}`),
    modify: (id: string, change: { new_name?: string; new_metadata?: Record<string, unknown> }) =>
      call<unknown>("PUT", `/collections/${id}`, change),
    remove: (name: string) => call<unknown>("DELETE", `/collections/${encodeURIComponent(name)}`),
    count: (id: string) => call<number>("GET", `/collections/${id}/count`),
    add: (id: string, body: unknown) => records(id, "add", body),
    update: (id: string, body: unknown) => records(id, "update", body),
    deleteRecords: (id: string, body: unknown) => records(id, "delete", body),
    getRecords: (id: string, body: unknown) => records(id, "get", body),
    query: (id: string, body: unknown) => records(id, "query", body)
  }
}

export type ChromaClient = ReturnType<typeof chromaClient>
