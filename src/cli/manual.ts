/**
 * claudy(1) and the command reference of docs/CLI.md, rendered from the @effect/cli command tree itself so neither can
 * drift from the parser: scripts/docs writes them (make man, make docs), a unit test checks docs/CLI.md.
 * Pure: the tree in, text out. Loaded only by that script and the test, never by a command.
 */
import { CliConfig, HelpDoc } from "@effect/cli"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as Usage from "@effect/cli/Usage"
import type { Span } from "@effect/cli/HelpDoc/Span"

/**
 * The shape of @effect/cli's command descriptors. Their constructors are internal and the public accessors stop one
 * level deep (getSubcommands returns a group's own command, not its children), so the tree is walked by its tags.
 */
type Node =
  | { readonly _tag: "Standard" | "GetUserInput"; readonly name: string; readonly description: HelpDoc.HelpDoc }
  | { readonly _tag: "Map"; readonly command: Node }
  | { readonly _tag: "Subcommands"; readonly parent: Node; readonly children: ReadonlyArray<Node> }

export interface Entry {
  /** e.g. ["claudy", "daemon", "logs"] */
  readonly path: ReadonlyArray<string>
  /** the usage line as `--help` shows it, with the full path */
  readonly usage: string
  /** the first paragraph of the description */
  readonly summary: string
  /** description, arguments and options */
  readonly help: HelpDoc.HelpDoc
}

const config = CliConfig.make({ showBuiltIns: false })

export const spanText = (s: Span): string => {
  switch (s._tag) {
    case "Text":
    case "URI":
      return s.value
    case "Sequence":
      return spanText(s.left) + spanText(s.right)
    default:
      return spanText(s.value)
  }
}

const nameOf = (n: Node): string => (n._tag === "Map" ? nameOf(n.command) : n._tag === "Subcommands" ? nameOf(n.parent) : n.name)

const walk = (n: Node, prefix: ReadonlyArray<string>): Array<Entry> => {
  if (n._tag === "Map") return walk(n.command, prefix)
  if (n._tag === "Subcommands") {
    const here = [...prefix, nameOf(n.parent)]
    return [...walk(n.parent, prefix), ...n.children.flatMap((c) => walk(c, here))]
  }
  const desc = n as unknown as Descriptor.Command<unknown>
  const own = Usage.enumerate(Descriptor.getUsage(desc), config).map(spanText)[0] ?? n.name
  return [
    {
      path: [...prefix, n.name],
      usage: [...prefix, own].join(" "),
      summary: spanText(HelpDoc.getSpan(n.description)),
      help: Descriptor.getHelp(desc, config)
    }
  ]
}

/** Every command of the tree, depth first in the order of `--help`. */
export const entries = (root: { readonly descriptor: Descriptor.Command<unknown> }): Array<Entry> =>
  walk(root.descriptor as unknown as Node, [])

// ---------------------------------------------------------------------------------------------------------------- roff

const roffEscape = (s: string) => s.replace(/\\/g, "\\e").replace(/-/g, "\\-").replace(/^([.'])/gm, "\\&$1")

const roffSpan = (s: Span): string => {
  switch (s._tag) {
    case "Text":
    case "URI":
      return roffEscape(s.value)
    case "Sequence":
      return roffSpan(s.left) + roffSpan(s.right)
    case "Strong":
    case "Highlight": // code
      return `\\fB${roffSpan(s.value)}\\fR`
    case "Weak":
      return roffSpan(s.value)
  }
}

const roffDoc = (d: HelpDoc.HelpDoc): string => {
  switch (d._tag) {
    case "Empty":
      return ""
    case "Header":
      // every command's help opens with DESCRIPTION, which the man page's own layout already says
      return spanText(d.value) === "DESCRIPTION" ? "" : `.PP\n\\fI${roffSpan(d.value)}\\fR\n`
    case "Paragraph":
      return `.PP\n${roffSpan(d.value)}\n`
    case "DescriptionList":
      // paragraphs of a definition stay indented under its term (.IP, not .PP)
      return d.definitions.map(([term, doc]) => `.TP\n\\fB${roffSpan(term)}\\fR\n${roffDoc(doc).replace(/^\.PP\n/, "").replace(/^\.PP$/gm, ".IP")}`).join("")
    case "Enumeration":
      return d.elements.map((e) => `.IP \\(bu 2\n${roffDoc(e).replace(/^\.PP\n/, "")}`).join("")
    case "Sequence":
      return roffDoc(d.left) + roffDoc(d.right)
  }
}

/** The built-in options every command takes (--help, --version, --completions, …), without their section header. */
export const builtInOptionsHelp = (): HelpDoc.HelpDoc => {
  const dropHeaders = (d: HelpDoc.HelpDoc): HelpDoc.HelpDoc =>
    d._tag === "Header" ? HelpDoc.empty : d._tag === "Sequence" ? HelpDoc.sequence(dropHeaders(d.left), dropHeaders(d.right)) : d
  return dropHeaders(Descriptor.getHelp(Descriptor.make("claudy"), CliConfig.make({ showBuiltIns: true })))
}

export interface ManualFacts {
  readonly version: string
  readonly globalOptions: HelpDoc.HelpDoc
  readonly exitCodes: Readonly<Record<string, number>>
  readonly environment: ReadonlyArray<{ readonly name: string; readonly default: string; readonly description: string }>
}

/** claudy(1) in man(7) format. */
export const manPage = (tree: ReadonlyArray<Entry>, facts: ManualFacts): string => {
  const [root, ...commands] = tree
  const lines = [
    `.TH CLAUDY 1 "" "claudy ${roffEscape(facts.version)}" "User Commands"`,
    ".SH NAME",
    "claudy \\- run isolated Claude Code workers in containers next to a shared ChromaDB",
    ".SH SYNOPSIS",
    ".nf",
    "claudy COMMAND [OPTIONS] [ARGUMENTS]",
    roffEscape(commands.find((e) => e.path.join(" ") === "claudy spawn")?.usage.replace("claudy spawn", "claudy") ?? ""),
    ".fi",
    ".SH DESCRIPTION",
    root ? roffDoc(root.help).trimEnd() : "",
    ".PP",
    "Every command takes \\fB\\-\\-help\\fR. Results go to stdout; progress, logs and errors go to stderr.",
    ".SH COMMANDS"
  ]
  for (const e of commands) {
    lines.push(`.SS ${roffEscape(e.path.join(" "))}`, ".nf", roffEscape(e.usage), ".fi", roffDoc(e.help).trimEnd())
  }
  lines.push(".SH GLOBAL OPTIONS", roffDoc(facts.globalOptions).trimEnd())
  lines.push(".SH ENVIRONMENT")
  for (const v of facts.environment) {
    lines.push(".TP", `\\fB${roffEscape(v.name)}\\fR (default: ${roffEscape(v.default || "empty")})`, roffEscape(v.description))
  }
  lines.push(".SH EXIT STATUS")
  for (const [name, code] of Object.entries(facts.exitCodes)) lines.push(".TP", `\\fB${code}\\fR`, roffEscape(name))
  lines.push(
    ".SH FILES",
    ".TP",
    "\\fB$HAL9000_HOME\\fR (default \\fB~/.hal9000\\fR)",
    "Session records, pool state, logs and locks; 0700.",
    ".SH SEE ALSO",
    "\\fBdocker\\fR(1), \\fBpodman\\fR(1), \\fBsystemctl\\fR(1); docs/ in the source tree",
    ""
  )
  return lines.join("\n")
}

// ------------------------------------------------------------------------------------------------------ docs/CLI.md

export const CLI_MD_BEGIN = "<!-- BEGIN generated by scripts/docs cli-md from the command tree: do not edit by hand -->"
export const CLI_MD_END = "<!-- END generated -->"

const SET = " --set NAME=VALUE..."

/** The usage line of every command, as one fenced block for docs/CLI.md (`--set`, which most take, is said in prose). */
export const cliReference = (tree: ReadonlyArray<Entry>): string =>
  [
    CLI_MD_BEGIN,
    "```",
    "claudy --version [--json]",
    ...tree.filter((e) => e.path.length > 1).map((e) => e.usage.replace(SET, "")),
    "```",
    CLI_MD_END
  ].join("\n")

/** docs/CLI.md with its generated block replaced (the rest is prose others edit). */
export const withCliReference = (markdown: string, tree: ReadonlyArray<Entry>): string => {
  const start = markdown.indexOf(CLI_MD_BEGIN)
  const end = markdown.indexOf(CLI_MD_END)
  if (start < 0 || end < start) throw new Error(`docs/CLI.md has no block between '${CLI_MD_BEGIN}' and '${CLI_MD_END}'`)
  return markdown.slice(0, start) + cliReference(tree) + markdown.slice(end + CLI_MD_END.length)
}
