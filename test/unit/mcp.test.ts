/** The shared memory's pure parts: the embedding setting and the hashed embedding, the registration merge, the tools' argument checks. */
import { describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { resolveSettings } from "../../src/config/variables.ts"
import { embeddingId, parseEmbedding } from "../../src/mcp/embeddingSetting.ts"
import { failure } from "../../src/mcp/errors.ts"
import { mcpFastPath } from "../../src/mcp/fastPath.ts"
import { hashEmbed, tokenize } from "../../src/mcp/hashEmbedding.ts"
import { MCP_SERVERS, mergeServers, registerServers } from "../../src/mcp/registrations.ts"
import { callTool, toolList, type ToolContext } from "../../src/mcp/tools.ts"

describe("HAL9000_EMBEDDING", () => {
  test("hash, ollama:MODEL@URL and openai:MODEL@URL; the id names the model, not the address", () => {
    expect(parseEmbedding("hash")).toEqual(Either.right({ kind: "hash" }))
    const o = Either.getOrThrow(parseEmbedding("ollama:nomic-embed-text@http://172.17.0.1:11434/"))
    expect(o).toEqual({ kind: "ollama", model: "nomic-embed-text", url: "http://172.17.0.1:11434" })
    expect(embeddingId(o)).toBe("ollama:nomic-embed-text")
    expect(embeddingId(Either.getOrThrow(parseEmbedding("openai:bge-small@https://10.0.0.5/v1")))).toBe("openai:bge-small")
    expect(embeddingId({ kind: "hash" })).toBe("claudy-hash-v1-512")
  })
  test.each(["", "Hash", "ollama", "ollama:@http://x", "ollama:m", "cohere:m@http://x", "openai:m@ftp://x", "openai:m@not a url"])(
    "%p is refused with the accepted forms",
    (raw) => {
      const r = parseEmbedding(raw)
      expect(Either.isLeft(r) && r.left.startsWith("hash, ollama:MODEL@")).toBe(true)
    }
  )
  test("is a setting like the others: default hash, validated, named in the error", () => {
    const ok = Either.getOrThrow(resolveSettings({ env: {} }))
    expect(ok.settings.embedding).toEqual({ raw: "hash", setting: { kind: "hash" } })
    const bad = resolveSettings({ env: { HAL9000_EMBEDDING: "word2vec" } })
    expect(Either.isLeft(bad) && bad.left.message).toContain("HAL9000_EMBEDDING is 'word2vec'")
  })
})

describe("hashed bag-of-words embedding", () => {
  const dot = (a: Array<number>, b: Array<number>) => a.reduce((s, x, i) => s + x * b[i]!, 0)
  test("deterministic, unit length, 512 dimensions; empty text is the zero vector", () => {
    const v = hashEmbed("The parent restarts ChromaDB")
    expect(v).toHaveLength(512)
    expect(hashEmbed("The parent restarts ChromaDB")).toEqual(v)
    expect(dot(v, v)).toBeCloseTo(1, 10)
    expect(hashEmbed("the of and").every((x) => x === 0)).toBe(true)
  })
  test("folds case and accents, drops stopwords", () => {
    expect(tokenize("Café, the RÉSUMÉ of it!")).toEqual(["cafe", "resume"])
  })
  test("ranks the document that shares words (and inflections) with the query first", () => {
    const docs = [
      "The parent container restarts ChromaDB when its heartbeat fails",
      "Attach to a running session with tmux, detach with ctrl-p ctrl-q",
      "Bananas are yellow and apples are red"
    ].map((d) => hashEmbed(d))
    const best = (q: string) => {
      const v = hashEmbed(q)
      const scores = docs.map((d) => dot(v, d))
      return scores.indexOf(Math.max(...scores))
    }
    expect(best("how is chromadb restarted")).toBe(0)
    expect(best("detaching from a session")).toBe(1)
    expect(best("red apples")).toBe(2)
  })
})

describe("MCP registration in .claude.json", () => {
  test("adds the three servers, keeps every other key and server, and says when nothing changed", () => {
    const user = { theme: "dark", mcpServers: { mine: { type: "stdio", command: "my-server" }, chroma: { command: "old" } } }
    const r = mergeServers(user)
    if ("error" in r) throw new Error(r.error)
    expect(r.changed).toBe(true)
    expect(r.next.theme).toBe("dark")
    expect(r.next.mcpServers).toEqual({ mine: { type: "stdio", command: "my-server" }, ...MCP_SERVERS })
    const again = mergeServers(r.next)
    expect("changed" in again && again.changed).toBe(false)
    expect(mergeServers([])).toEqual({ error: "it is not a JSON object" })
    expect(mergeServers({ mcpServers: "x" })).toEqual({ error: "its mcpServers is not a JSON object" })
  })
  test("writes atomically with mode 0600, creates the file, and leaves an unreadable one untouched", () => {
    const dir = mkdtempSync(join(tmpdir(), "claudy-register-"))
    try {
      expect(registerServers(dir)).toBeUndefined()
      const file = join(dir, ".claude.json")
      expect(Object.keys(JSON.parse(readFileSync(file, "utf8")).mcpServers)).toEqual(["chroma", "memory-bank", "sequential-thinking"])
      expect(statSync(file).mode & 0o777).toBe(0o600)
      const mtime = statSync(file).mtimeMs
      expect(registerServers(dir)).toBeUndefined()
      expect(statSync(file).mtimeMs).toBe(mtime) // unchanged: not rewritten
      writeFileSync(file, "{ not json")
      expect(registerServers(dir)).toContain("is not readable JSON")
      expect(readFileSync(file, "utf8")).toBe("{ not json")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  test("the fast path takes exactly `mcp chroma` and `mcp register`; anything else goes to the parser", () => {
    expect(mcpFastPath(["bun", "claudy", "mcp", "chroma"])).toBeFunction()
    expect(mcpFastPath(["bun", "claudy", "mcp", "register"])).toBeFunction()
    for (const rest of [["mcp"], ["mcp", "chroma", "--help"], ["mcp", "other"], ["daemon", "status"]]) {
      expect(mcpFastPath(["bun", "claudy", ...rest])).toBeUndefined()
    }
  })
})

describe("chroma tools", () => {
  // Every ChromaDB call fails: these checks must answer before any call is made.
  const unreachable = () => Effect.fail(failure("ChromaDB was called"))
  const ctx: ToolContext = {
    chroma: new Proxy({}, { get: () => unreachable }) as ToolContext["chroma"],
    embed: () => Effect.fail(failure("embed was called")),
    embedding: "claudy-hash-v1-512",
    embeddingKind: "hash",
    embeddingSetting: "hash",
    collections: new Map()
  }
  const run = (name: string, args: unknown) => callTool(name, args, Effect.succeed(ctx))
  test("chroma-mcp's twelve names, each with an object schema of its parameters", () => {
    const tools = toolList()
    expect(tools).toHaveLength(12)
    const query = tools.find((t) => t.name === "chroma_query_documents")!.inputSchema as any
    expect(query.type).toBe("object")
    expect(query.required).toEqual(["collection_name", "query_texts"])
    expect(Object.keys(query.properties)).toEqual(["collection_name", "query_texts", "n_results", "where", "where_document", "include"])
  })
  test.each([
    ["chroma_query_documents", { collection_name: "c", query_texts: [] }, "query_texts"],
    ["chroma_query_documents", { collection_name: "c", query_texts: ["x"], n_results: 0 }, "n_results"],
    ["chroma_add_documents", { collection_name: "c", documents: ["a"], ids: [""] }, "ids.0"],
    ["chroma_add_documents", { collection_name: "c", documents: ["a"], ids: ["1"], metadatas: [{}, {}] }, "Number of metadatas (2)"],
    ["chroma_update_documents", { collection_name: "c", ids: ["1"] }, "At least one of 'embeddings', 'metadatas', or 'documents'"],
    ["chroma_modify_collection", { collection_name: "c" }, "Nothing to modify"],
    ["chroma_create_collection", { collection_name: "c", embedding_function_name: "cohere" }, "'cohere' is not available here"],
    ["chroma_get_collection_count", {}, "collection_name"],
    ["chroma_nonsense", {}, "Unknown tool 'chroma_nonsense'"]
  ])("%s %j is a tool error naming %p, without a call", async (name, args, expected) => {
    const r = await run(name, args)
    expect(r.isError).toBe(true)
    expect(r.content[0]!.text).toContain(expected)
    expect(r.content[0]!.text).not.toContain("was called")
  })
  test("a collection looked up once serves the next calls; one gone by id (404) is looked up again, once", async () => {
    const calls: Array<string> = []
    let id = "id-1"
    const collection = () => ({ id, name: "notes", metadata: { claudy_embedding: "claudy-hash-v1-512" } })
    const chroma = {
      get: (name: string) => Effect.sync(() => (calls.push(`get ${name}`), collection())),
      count: (cid: string) =>
        Effect.suspend(() => {
          calls.push(`count ${cid}`)
          return cid === id ? Effect.succeed(7) : Effect.fail(failure("gone", 404))
        })
    } as unknown as ToolContext["chroma"]
    const c = { ...ctx, chroma, collections: new Map() }
    const count = () => callTool("chroma_get_collection_count", { collection_name: "notes" }, Effect.succeed(c))
    expect((await count()).content[0]!.text).toBe("7")
    expect((await count()).content[0]!.text).toBe("7")
    expect(calls).toEqual(["get notes", "count id-1", "count id-1"])
    id = "id-2" // deleted and made again by another worker
    expect((await count()).content[0]!.text).toBe("7")
    expect(calls.slice(3)).toEqual(["count id-1", "get notes", "count id-2"])
  })
  test("a defect inside a tool is a tool error too, not a dead server", async () => {
    const broken = { ...ctx, chroma: new Proxy({}, { get: () => () => Effect.die(new Error("boom")) }) as ToolContext["chroma"] }
    const r = await callTool("chroma_list_collections", {}, Effect.succeed(broken))
    expect(r).toEqual({ content: [{ type: "text", text: "Internal error in claudy's chroma server (please report it): Error: boom" }], isError: true })
  })
})
