/** claudy(1) and docs/CLI.md come from the command tree: the man page is rendered at build time, CLI.md is checked. */
import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { builtInOptionsHelp, entries, manPage, withCliReference } from "../../src/cli/manual.ts"
import { fullTree } from "../../src/cli/root.ts"

const tree = entries(await fullTree())

describe("docs from the command tree", () => {
  test("docs/CLI.md lists every command as the parser knows it", () => {
    const path = new URL("../../docs/CLI.md", import.meta.url)
    const current = readFileSync(path, "utf8")
    const fresh = withCliReference(current, tree)
    if (fresh !== current) {
      throw new Error("docs/CLI.md is out of date with the command tree: regenerate it with `make docs` and commit it")
    }
  })

  test("every command has its full path and usage", () => {
    const paths = tree.map((e) => e.path.join(" "))
    expect(paths).toContain("claudy daemon logs")
    expect(paths).toContain("claudy backup list")
    expect(tree.find((e) => e.path.join(" ") === "claudy daemon logs")?.usage).toStartWith("claudy daemon logs [--tail N]")
  })

  test("claudy(1) has a section for each command, the built-in options, the environment and the exit codes", () => {
    const man = manPage(tree, {
      version: "9.9.9",
      globalOptions: builtInOptionsHelp(),
      exitCodes: { ok: 0, usage: 2 },
      environment: [{ name: "CHROMADB_PORT", default: "8000", description: "port" }]
    })
    expect(man).toStartWith('.TH CLAUDY 1 "" "claudy 9.9.9"')
    for (const e of tree.slice(1)) expect(man).toContain(`.SS ${e.path.join(" ").replace(/-/g, "\\-")}\n`)
    expect(man).toContain("\\-\\-completions")
    expect(man).toContain("\\fBCHROMADB_PORT\\fR (default: 8000)")
    expect(man).toContain(".SH EXIT STATUS")
    // roff would read a line starting with "." or "'" as a request
    for (const line of man.split("\n")) if (/^['.]/.test(line)) expect(line).toMatch(/^\.(TH|SH|SS|PP|TP|IP|nf|fi)( |$)/)
  })
})
