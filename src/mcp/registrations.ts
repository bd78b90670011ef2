/**
 * The MCP servers every worker's Claude Code gets, registered in user scope: `$CLAUDE_CONFIG_DIR/.claude.json`, key
 * `mcpServers`, where `claude mcp add --scope user` writes and every session reads. Not managed-mcp.json: that takes
 * exclusive control and would forbid the servers a user adds. The worker entrypoint runs `claudy mcp register` under
 * `flock` before it waits for its claim (cold and warm alike); the merge keeps every other key and server, and writes
 * (temp file + rename) only when something changed, so a persistent config dir is rewritten once, not every start.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/** Where workers find the claudy binary: the host's own build, bind-mounted read-only (spawn/workerSpec.ts). */
export const CLAUDY_IN_WORKER = "/usr/local/bin/claudy"
export const MEMORY_BANK_ROOT = "/data/membank"

export const MCP_SERVERS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  chroma: { type: "stdio", command: CLAUDY_IN_WORKER, args: ["mcp", "chroma"], env: {} },
  "memory-bank": { type: "stdio", command: "mcp-server-memory-bank", args: [], env: { MEMORY_BANK_ROOT } },
  "sequential-thinking": { type: "stdio", command: "mcp-server-sequential-thinking", args: [], env: {} }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/**
 * The config with claudy's servers in it (pure). Claudy owns its three names and sets them; every other server and
 * key stays as it was. `changed` is false when claudy's servers were already there exactly.
 */
export const mergeServers = (config: unknown): { readonly next: Record<string, unknown>; readonly changed: boolean } | { readonly error: string } => {
  if (!isObject(config)) return { error: "it is not a JSON object" }
  const servers = config.mcpServers ?? {}
  if (!isObject(servers)) return { error: "its mcpServers is not a JSON object" }
  const changed = Object.entries(MCP_SERVERS).some(([name, spec]) => JSON.stringify(servers[name]) !== JSON.stringify(spec))
  return { next: { ...config, mcpServers: { ...servers, ...MCP_SERVERS } }, changed }
}

/**
 * Merge claudy's servers into `<configDir>/.claude.json`. The caller holds the lock (the entrypoint's flock).
 * Returns a message for stderr when the file cannot be used, and leaves it untouched then.
 */
export const registerServers = (configDir: string): string | undefined => {
  const file = join(configDir, ".claude.json")
  let current: unknown = {}
  try {
    current = JSON.parse(readFileSync(file, "utf8"))
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code !== "ENOENT") return `claudy mcp register: ${file} is not readable JSON (${e instanceof Error ? e.message : String(e)}); left as it is`
  }
  const merged = mergeServers(current)
  if ("error" in merged) return `claudy mcp register: ${file} was left as it is: ${merged.error}`
  if (!merged.changed) return undefined
  const tmp = `${file}.claudy-${process.pid}.tmp`
  try {
    // 0600 like Claude Code's own: the file holds the user's settings and may hold tokens.
    writeFileSync(tmp, `${JSON.stringify(merged.next, null, 2)}\n`, { mode: 0o600 })
    renameSync(tmp, file)
  } catch (e) {
    return `claudy mcp register: could not write ${file}: ${e instanceof Error ? e.message : String(e)}`
  }
  return undefined
}
