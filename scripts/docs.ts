/**
 * Documents rendered from the command tree (src/cli/manual.ts), so they cannot drift from the parser:
 *   bun scripts/docs.ts man FILE   claudy(1)            (make man; make install and make release ship it)
 *   bun scripts/docs.ts cli-md     docs/CLI.md's block  (make docs; test/unit/docs.test.ts checks it)
 */
import { readFileSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { EXIT } from "../src/cli/exitCodes.ts"
import { builtInOptionsHelp, entries, manPage, withCliReference } from "../src/cli/manual.ts"
import { fullTree } from "../src/cli/root.ts"
import { VARIABLES } from "../src/config/variables.ts"
import { VERSION } from "../src/version.ts"

const [what, file] = process.argv.slice(2)
const tree = entries(await fullTree())
if (what === "man" && file) {
  const home = homedir()
  const environment = Object.values(VARIABLES).map((v) => ({
    name: v.name,
    default: v.default().replace(home, "~"),
    description: v.description
  }))
  writeFileSync(file, manPage(tree, { version: VERSION, globalOptions: builtInOptionsHelp(), exitCodes: EXIT, environment }))
} else if (what === "cli-md") {
  const path = new URL("../docs/CLI.md", import.meta.url)
  writeFileSync(path, withCliReference(readFileSync(path, "utf8"), tree))
} else {
  process.stderr.write("usage: bun scripts/docs.ts man FILE | cli-md\n")
  process.exit(2)
}
