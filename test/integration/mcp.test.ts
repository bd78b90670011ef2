/**
 * The shared memory end to end, through real MCP clients (the SDK's own stdio client, as Claude Code calls a server):
 * Claude Code's health check in cold and warm workers, worker A writes and worker B finds it, the host sees it over
 * HTTP and through its own `claudy mcp chroma`, the memory bank is shared, the embedding is recorded and enforced,
 * and it all survives `daemon restart` and backup → change → restore.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { CLAUDY, chroma, docker, type Sandbox, sandboxWithParent, tracked, waitFor } from "../support/harness.ts"

const t = tracked()
let b: Sandbox
let project: string
const clients: Array<Client> = []

beforeAll(async () => {
  b = await sandboxWithParent(t)
  project = t.tempDir("claudy-mcp-project-", 1000)
})
afterAll(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined)
  await t.cleanup()
})

const connect = async (command: string, args: Array<string>, env: Record<string, string> = {}) => {
  const c = new Client({ name: "claudy-test", version: "1" })
  await c.connect(
    new StdioClientTransport({ command, args, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env }, stderr: "pipe" })
  )
  clients.push(c)
  return c
}
const workerName = (session: string) => `${b.instance}-worker-${session}`
/** `claudy mcp chroma` inside a worker: the binary Claude Code's registration names, on the worker's CHROMADB_URL. */
const chromaIn = (session: string) => connect("docker", ["exec", "-i", workerName(session), "claudy", "mcp", "chroma"])
const memoryBankIn = (session: string) => connect("docker", ["exec", "-i", workerName(session), "mcp-server-memory-bank"])
/** The host's `claudy mcp chroma`: the parent's published port. */
const chromaOnHost = (env: Record<string, string> = {}) => connect(CLAUDY, ["mcp", "chroma"], { ...b.env, ...env })

const call = async (c: Client, name: string, args: Record<string, unknown>) => {
  const r = await c.callTool({ name, arguments: args })
  return { error: r.isError === true, text: (r.content as Array<{ text: string }>)[0]!.text }
}
const ok = async (c: Client, name: string, args: Record<string, unknown>) => {
  const r = await call(c, name, args)
  if (r.error) throw new Error(`${name} failed: ${r.text}`)
  return r.text
}

const spawn = async (name: string, command: Array<string>, dir = project) => {
  const r = await b.claudy(["--via-parent", "--detach", "--name", name, dir, "--", ...command])
  if (r.code !== 0) throw new Error(`spawn ${name} failed (${r.code}): ${r.stderr}`)
}
const running = (name: string) =>
  waitFor(`session ${name} to run`, async () => {
    const r = await b.claudy(["sessions", "inspect", name, "--json"])
    return r.code === 0 && JSON.parse(r.stdout).status === "running" ? true : undefined
  }, 60_000)
// Claude Code may draw with cursor movements even into a pipe: compare words, escape sequences read as spaces.
const plain = (s: string) =>
  s
    .replace(/\x1b\[[0-9;?<>]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[78]|\x1b\][^\x07]*\x07|[\x00-\x09\x0b-\x1f]/g, " ")
    .replace(/ +/g, " ")
const mcpList = (name: string) =>
  waitFor(`claude mcp list in ${name}`, async () => {
    const out = plain((await b.claudy(["sessions", "logs", name])).stdout)
    return out.includes("sequential-thinking") && out.includes("DONE") ? out : undefined
  }, 90_000)

const DOCS = {
  restart: "The parent container restarts ChromaDB when its heartbeat fails; the watchdog counts every restart.",
  tmux: "Attach to a running session with tmux or claudy sessions attach, detach with ctrl-p ctrl-q.",
  fruit: "Bananas are yellow and apples are red."
}

describe("Claude Code in a worker", () => {
  test("`claude mcp list` shows chroma, memory-bank and sequential-thinking connected: warm, cold, and as another uid", async () => {
    const listing = ["sh", "-c", "claude mcp list | cat; echo DONE; sleep 300"]
    expect((await b.claudy(["pool", "warm", project])).code).toBe(0)
    await spawn("list-warm", listing)
    await spawn("list-cold", listing)
    // a project of another user: the worker runs as uid 4242, whose home is an empty tmpfs
    const other = t.tempDir("claudy-mcp-other-", 4242)
    await spawn("list-uid", listing, other)
    const served = readFileSync(join(b.home, "pool", "spawns.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(served.map((s: { session: string; served: string }) => [s.session, s.served])).toEqual([
      ["list-warm", "warm"],
      ["list-cold", "cold"],
      ["list-uid", "cold"]
    ])
    // one Claude home per uid: the uid-4242 session has its own, and the instance's stays uid 1000's (giving it to
    // 4242 once took it away from the two sessions still starting: "No MCP servers configured")
    const homeOf = async (session: string) =>
      JSON.parse((await docker("inspect", workerName(session))).stdout)[0].Mounts.find((m: { Destination: string }) => m.Destination === "/home/claude/.claude")?.Name
    expect(await homeOf("list-cold")).toBe(`${b.instance}-claude-home`)
    expect(await homeOf("list-uid")).toBe(`${b.instance}-claude-home-4242`)
    for (const name of ["list-warm", "list-cold", "list-uid"]) {
      const out = await mcpList(name)
      expect(out).toContain("/usr/local/bin/claudy mcp chroma - ✔ Connected")
      expect(out).toContain("memory-bank: mcp-server-memory-bank - ✔ Connected")
      expect(out).toContain("sequential-thinking: mcp-server-sequential-thinking - ✔ Connected")
      expect(out.match(/✔ Connected/g)?.length).toBe(3)
      expect(out).not.toContain("Failed")
    }
    const ownerIn = async (session: string) => (await docker("exec", workerName(session), "stat", "-c", "%u", "/home/claude/.claude")).stdout.trim()
    expect([await ownerIn("list-warm"), await ownerIn("list-cold"), await ownerIn("list-uid")]).toEqual(["1000", "1000", "4242"])
  })

  test("the worker's environment: UTF-8, WORKSPACE, CLAUDE_HOME, MEMORY_BANK_ROOT, CHROMADB_URL, python venv, rg, tmux, less", async () => {
    await spawn("env", [
      "sh",
      "-c",
      'echo "LANG=$LANG WS=$WORKSPACE CH=$CLAUDE_HOME CCD=$CLAUDE_CONFIG_DIR MB=$MEMORY_BANK_ROOT URL=$CHROMADB_URL"; ' +
        "python3 -m venv /tmp/v && /tmp/v/bin/pip --version >/dev/null && echo venv-ok; " +
        "for c in rg tmux less; do printf '%s ' $(command -v $c); done; echo; echo DONE; sleep 300"
    ])
    const out = await waitFor("env output", async () => {
      const s = (await b.claudy(["sessions", "logs", "env"])).stdout
      return s.includes("DONE") ? s : undefined
    }, 60_000)
    expect(out).toContain(
      `LANG=C.UTF-8 WS=/workspace CH=/home/claude/.claude CCD=/home/claude/.claude MB=/data/membank URL=http://localhost:${b.port}`
    )
    expect(out).toContain("venv-ok")
    expect(out).toContain("/usr/bin/rg /usr/bin/tmux /usr/bin/less ")
  })
})

describe("the shared memory", () => {
  test("worker A adds, worker B finds it first; the host sees it over HTTP and through its own claudy mcp chroma", async () => {
    await spawn("mem-a", ["sleep", "600"])
    await spawn("mem-b", ["sleep", "600"])
    await running("mem-a")
    await running("mem-b")

    const a = await chromaIn("mem-a")
    expect(a.getServerVersion()?.name).toBe("chroma")
    expect((await a.listTools()).tools.map((x) => x.name).sort()).toEqual(
      [
        "chroma_list_collections",
        "chroma_create_collection",
        "chroma_peek_collection",
        "chroma_get_collection_info",
        "chroma_get_collection_count",
        "chroma_modify_collection",
        "chroma_delete_collection",
        "chroma_add_documents",
        "chroma_query_documents",
        "chroma_get_documents",
        "chroma_update_documents",
        "chroma_delete_documents"
      ].sort()
    )
    await ok(a, "chroma_create_collection", { collection_name: "team-notes", metadata: { team: "ops" } })
    expect(await ok(a, "chroma_add_documents", { collection_name: "team-notes", documents: Object.values(DOCS), ids: Object.keys(DOCS) })).toContain(
      "Successfully added 3 documents"
    )

    const bClient = await chromaIn("mem-b")
    const found = JSON.parse(await ok(bClient, "chroma_query_documents", { collection_name: "team-notes", query_texts: ["how is chromadb restarted"] }))
    expect(found.ids[0][0]).toBe("restart")
    expect(found.documents[0][0]).toBe(DOCS.restart)

    // the host: ChromaDB's own HTTP API, and a host Claude Code's `claudy mcp chroma`
    const id = await chroma(b.port).collectionId("team-notes")
    expect(id).toBeString()
    expect(await chroma(b.port).get(id!, ["tmux"])).toEqual([DOCS.tmux])
    const host = await chromaOnHost()
    const fromHost = JSON.parse(await ok(host, "chroma_query_documents", { collection_name: "team-notes", query_texts: ["yellow bananas"], n_results: 1 }))
    expect(fromHost.ids).toEqual([["fruit"]])
    const info = JSON.parse(await ok(host, "chroma_get_collection_info", { collection_name: "team-notes" }))
    expect(info).toMatchObject({ count: 3, metadata: { team: "ops", claudy_embedding: "claudy-hash-v1-512" } })

    // the memory bank: a file written by A's memory-bank server is read by B's
    await ok(await memoryBankIn("mem-a"), "memory_bank_write", { projectName: "shared", fileName: "notes.md", content: "written by A" })
    expect(await ok(await memoryBankIn("mem-b"), "memory_bank_read", { projectName: "shared", fileName: "notes.md" })).toContain("written by A")
  })

  test("a bad call is a tool error with a clear message, and the server answers the next one", async () => {
    const c = await chromaOnHost()
    const typo = await call(c, "chroma_query_documents", { collection_name: "team-notes", query_texts: ["x"], n_result: 2 })
    expect(typo.error).toBe(true)
    expect(typo.text).toContain("n_result")
    expect(typo.text).toContain("is unexpected")
    const mismatch = await call(c, "chroma_add_documents", { collection_name: "team-notes", documents: ["one"], ids: ["a", "b"] })
    expect(mismatch).toEqual({ error: true, text: "Number of ids (2) must match number of documents (1)." })
    const missing = await call(c, "chroma_get_collection_count", { collection_name: "no-such-collection" })
    expect(missing.error).toBe(true)
    expect(missing.text).toContain("Collection 'no-such-collection' does not exist")
    const duplicate = await call(c, "chroma_add_documents", { collection_name: "team-notes", documents: ["again"], ids: ["fruit"] })
    expect(duplicate.text).toContain(`The following IDs already exist in collection 'team-notes': ["fruit"]`)
    expect(await ok(c, "chroma_get_collection_count", { collection_name: "team-notes" })).toBe("3")
  })

  test("a configured embedding endpoint is used and recorded; a collection of another embedding is refused", async () => {
    // an OpenAI-compatible endpoint on loopback: a vector per text from its letters, and a count of calls
    let calls = 0
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (req) => {
        calls++
        const body = (await req.json()) as { model: string; input: Array<string> }
        const vector = (s: string) => [s.length, (s.match(/a/g) ?? []).length, (s.match(/e/g) ?? []).length, 1]
        return Response.json({ data: body.input.map((s, index) => ({ index, embedding: vector(s) })), model: body.model })
      }
    })
    try {
      const setting = `openai:test-model@http://127.0.0.1:${server.port}/v1`
      const remote = await chromaOnHost({ HAL9000_EMBEDDING: setting })
      await ok(remote, "chroma_add_documents", { collection_name: "semantic", documents: ["alpha", "beta"], ids: ["1", "2"] })
      expect(calls).toBe(1)
      const info = JSON.parse(await ok(remote, "chroma_get_collection_info", { collection_name: "semantic" }))
      expect(info.metadata.claudy_embedding).toBe("openai:test-model")

      const local = await chromaOnHost()
      const refused = await call(local, "chroma_query_documents", { collection_name: "semantic", query_texts: ["alpha"] })
      expect(refused.error).toBe(true)
      expect(refused.text).toContain("Collection 'semantic' was made with the embedding 'openai:test-model'")
      expect(refused.text).toContain("HAL9000_EMBEDDING=hash")
      const other = await call(remote, "chroma_query_documents", { collection_name: "team-notes", query_texts: ["alpha"] })
      expect(other.text).toContain("was made with the embedding 'claudy-hash-v1-512'")
      expect(calls).toBe(1)
    } finally {
      server.stop(true)
    }

    // a bad setting: every call says which and how to fix it, and the server stays up
    const bad = await chromaOnHost({ HAL9000_EMBEDDING: "word2vec" })
    const r = await call(bad, "chroma_list_collections", {})
    expect(r.error).toBe(true)
    expect(r.text).toContain("HAL9000_EMBEDDING is 'word2vec'")
    expect((await bad.listTools()).tools).toHaveLength(12)
    const config = await b.claudy(["config"], { HAL9000_EMBEDDING: "word2vec" })
    expect(config.code).toBe(2)
    expect(config.stderr).toContain("HAL9000_EMBEDDING")
  })

  test("the memory survives daemon restart, and restore brings back the earlier collection and memory-bank file", async () => {
    const restarted = await b.claudy(["daemon", "restart"])
    expect(restarted.code).toBe(0)
    const host = await chromaOnHost()
    const found = JSON.parse(await ok(host, "chroma_query_documents", { collection_name: "team-notes", query_texts: ["tmux attach"], n_results: 1 }))
    expect(found.ids).toEqual([["tmux"]])
    const parent = `${b.instance}-parent`
    const bankFile = "/data/membank/shared/notes.md"
    expect((await docker("exec", parent, "cat", bankFile)).stdout).toBe("written by A")

    const dest = t.tempDir("claudy-mcp-backup-")
    const taken = await b.claudy(["backup", "--dest", dest])
    expect(taken.code).toBe(0)
    const dir = /Backup written to (\S+)/.exec(taken.stdout)![1]!

    // change both after the backup
    await ok(host, "chroma_add_documents", { collection_name: "team-notes", documents: ["added after the backup"], ids: ["later"] })
    expect((await docker("exec", parent, "sh", "-c", `echo changed > ${bankFile}`)).code).toBe(0)
    expect(await ok(host, "chroma_get_collection_count", { collection_name: "team-notes" })).toBe("4")

    const restored = await b.claudy(["restore", dir])
    expect(restored.code).toBe(0)
    const after = await chromaOnHost()
    expect(await ok(after, "chroma_get_collection_count", { collection_name: "team-notes" })).toBe("3")
    const again = JSON.parse(await ok(after, "chroma_query_documents", { collection_name: "team-notes", query_texts: ["how is chromadb restarted"], n_results: 1 }))
    expect(again.ids).toEqual([["restart"]])
    expect((await docker("exec", parent, "cat", bankFile)).stdout).toBe("written by A")
  })
})
