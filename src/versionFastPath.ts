/**
 * `claudy --version` answered before anything else is loaded: both entries check this first and import the program
 * (Effect, the CLI, every command) only otherwise. Measured on the compiled binary: --version 45 -> 3 ms.
 */
import { VERSION_LINE, versionFacts } from "./version.ts"

/** True when argv asked only for the version (`--version`, or `--version --json`), which is then printed. */
export const answeredVersion = (argv: ReadonlyArray<string>): boolean => {
  const args = argv.slice(2)
  if (args.length === 2 && args.includes("--version") && args.includes("--json")) {
    void versionFacts().then((facts) => console.log(JSON.stringify(facts, null, 2)))
    return true
  }
  if (args.length !== 1 || args[0] !== "--version") return false
  console.log(VERSION_LINE) // not process.stdout.write: its first use builds Node's streams (≈ 7 ms, measured)
  return true
}

/** Load the program; a failure here is a broken build or install, never the user's input. */
export const loadProgram = (load: () => Promise<unknown>) =>
  load().catch((e: unknown) => {
    process.stderr.write(`Error: claudy could not load its program (a broken build or install; please report it)\n${String(e)}\n`)
    process.exit(1)
  })
