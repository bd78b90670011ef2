/** Shipping claudy: a clean fresh clone, make install/uninstall into a DESTDIR, make release, --version --json. */
import { afterAll, describe, expect, test } from "bun:test"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CLAUDY, ROOT, run } from "../support/harness.ts"

const temps: Array<string> = []
const temp = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  temps.push(dir)
  return dir
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true })
})

const ok = async (cmd: ReadonlyArray<string>, cwd = ROOT, env: Record<string, string> = {}) => {
  const r = await run(cmd, { ...env, npm_config_loglevel: "error" }, cwd)
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`)
  return r
}

const filesUnder = (dir: string): Array<string> =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => !e.isDirectory())
        .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    : []

describe("a fresh clone", () => {
  // The committed files, as a new user gets them (uncommitted work of this checkout is not in the clone).
  const clone = async () => {
    const dir = join(temp("claudy-clone-"), "claudy")
    await ok(["git", "clone", "--quiet", "--no-hardlinks", ROOT, dir])
    return dir
  }

  test("installs with npm ci, and neither npm nor the build outputs leave git status dirty", async () => {
    const dir = await clone()
    // npm ci refuses a lockfile out of step with package.json (make runs npm ci)
    await ok(["npm", "ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"], dir)
    // an incomplete lockfile (other platforms' optional packages of bun and deno missing) is rewritten here
    await ok(["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"], dir)
    const status = (await ok(["git", "status", "--porcelain"], dir)).stdout
    if (status !== "") throw new Error(`npm changed the committed files; regenerate the lockfile with: make lockfile\n${status}`)
    // what make up, make test, make install and make release write in the checkout is ignored by git
    const written = ["node_modules/.installed", "dist/claudy", "dist/claudy.1", "dist/stage/bin/claudy", "dist/SHA256SUMS", ".cache/x"]
    const ignored = await run(["git", "check-ignore", "--no-index", ...written], {}, dir)
    expect(ignored.stdout.trim().split("\n")).toEqual(written)
  })
})

describe("make install / uninstall", () => {
  test("puts each file where it belongs under DESTDIR and PREFIX, the installed binary runs, uninstall leaves nothing", async () => {
    const dest = temp("claudy-destdir-")
    const vars = [`DESTDIR=${dest}`, "PREFIX=/usr"]
    await ok(["make", "--no-print-directory", "install", ...vars])
    const root = join(dest, "usr")
    expect(filesUnder(root).sort()).toEqual(
      [
        "bin/claudy",
        "lib/systemd/system/claudy.service",
        "share/bash-completion/completions/claudy",
        "share/doc/claudy/LICENSE",
        "share/doc/claudy/OPERATIONS.md",
        "share/doc/claudy/README.md",
        "share/fish/vendor_completions.d/claudy.fish",
        "share/man/man1/claudy.1",
        "share/zsh/site-functions/_claudy"
      ].sort()
    )
    expect(statSync(join(root, "bin/claudy")).mode & 0o777).toBe(0o755)
    const version = await ok([join(root, "bin/claudy"), "--version"])
    expect(version.stdout).toBe((await ok([CLAUDY, "--version"])).stdout)
    // the unit runs the installed binary
    expect(readFileSync(join(root, "lib/systemd/system/claudy.service"), "utf8")).toContain("ExecStart=/usr/bin/claudy daemon run")
    expect(readFileSync(join(root, "share/zsh/site-functions/_claudy"), "utf8")).toStartWith("#compdef claudy")
    // the completions know the subcommands
    expect(readFileSync(join(root, "share/bash-completion/completions/claudy"), "utf8")).toContain("claudy__daemon__logs")
    const man = await run(["man", "-l", "-P", "cat", join(root, "share/man/man1/claudy.1")], { MANWIDTH: "100" })
    if (man.code === 0) expect(man.stdout).toContain("claudy daemon logs [--tail N]")
    await ok(["make", "--no-print-directory", "uninstall", ...vars])
    expect(filesUnder(dest)).toEqual([])
  })
})

describe("make release", () => {
  test("writes the tarball with binary, unit, completions, man page, README and LICENSE, and SHA256SUMS", async () => {
    await ok(["make", "--no-print-directory", "release"])
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"))
    const name = `claudy-${pkg.version}-linux-${process.arch}`
    const tarball = join(ROOT, "dist", `${name}.tar.gz`)
    const sums = readFileSync(join(ROOT, "dist/SHA256SUMS"), "utf8")
    expect(sums).toMatch(new RegExp(`^[0-9a-f]{64}  ${name}\\.tar\\.gz\\n$`))
    await ok(["sha256sum", "--check", "--status", "SHA256SUMS"], join(ROOT, "dist"))
    const listing = (await ok(["tar", "-tzf", tarball])).stdout.split("\n")
    for (const f of ["bin/claudy", "lib/systemd/system/claudy.service", "share/man/man1/claudy.1", "share/doc/claudy/README.md", "share/doc/claudy/LICENSE", "share/zsh/site-functions/_claudy"]) {
      expect(listing).toContain(`${name}/${f}`)
    }
    // extracted where the README says, the binary runs
    const prefix = temp("claudy-release-")
    await ok(["tar", "-C", prefix, "--strip-components=1", "-xzf", tarball])
    expect((await ok([join(prefix, "bin/claudy"), "--version"])).stdout).toContain(pkg.version)
  })
})

describe("claudy --version --json", () => {
  test("names the version, commit, build date, Bun and the pinned ChromaDB and Claude Code", async () => {
    const facts = JSON.parse((await ok([CLAUDY, "--version", "--json"])).stdout)
    const { CHROMADB_VERSION, CLAUDE_CODE_VERSION } = await import("../../src/images/recipes.ts")
    const commit = (await ok(["git", "rev-parse", "--short=12", "HEAD"])).stdout.trim()
    expect(facts).toMatchObject({ commit, bun: Bun.version, runtime: "bun", chromadb: CHROMADB_VERSION, claude_code: CLAUDE_CODE_VERSION })
    expect(facts.build_date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect((await ok([CLAUDY, "--version"])).stdout.trim()).toBe(`${facts.version} (commit ${commit})`)
  })
})
