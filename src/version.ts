/**
 * Version and commit: stamped by scripts/build with `--define`; when running from source (Deno, bun run) they are
 * read from package.json and git, so both report the same thing for the same checkout.
 */
import pkg from "../package.json" with { type: "json" }

declare const CLAUDY_VERSION: string | undefined
declare const CLAUDY_COMMIT: string | undefined
declare const CLAUDY_BUILD: string | undefined
/** ISO 8601; scripts/build stamps the commit's date (SOURCE_DATE_EPOCH), so two builds of one commit are identical */
declare const CLAUDY_BUILD_DATE: string | undefined

export const VERSION: string = typeof CLAUDY_VERSION === "string" ? CLAUDY_VERSION : pkg.version
// git only from source: node:child_process is not loaded by the binary's entry (each built-in module costs its start)
export const COMMIT: string = typeof CLAUDY_COMMIT === "string" ? CLAUDY_COMMIT : (await import("./gitCommit.ts")).commitFromGit()
export const VERSION_LINE = `${VERSION} (commit ${COMMIT})`
/**
 * This build, for the control server's handshake (src/server/): version, commit and a hash of the tree's uncommitted
 * changes (scripts/build), so a server of another build (a rebuild of a changed tree) is never used. From source: the
 * version line.
 */
export const BUILD_ID: string = typeof CLAUDY_BUILD === "string" ? CLAUDY_BUILD : VERSION_LINE

/** `claudy --version --json`: what was built, from what, and which ChromaDB and Claude Code its images pin. */
export const versionFacts = async () => {
  const { CHROMADB_VERSION, CLAUDE_CODE_VERSION } = await import("./images/recipes.ts")
  return {
    version: VERSION,
    commit: COMMIT,
    build_date: typeof CLAUDY_BUILD_DATE === "string" ? CLAUDY_BUILD_DATE : null,
    bun: process.versions.bun ?? null,
    runtime: process.versions.bun ? "bun" : "deno" in globalThis ? "deno" : "node",
    chromadb: CHROMADB_VERSION,
    claude_code: CLAUDE_CODE_VERSION
  }
}
