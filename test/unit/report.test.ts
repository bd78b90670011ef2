import { describe, expect, test } from "bun:test"
import { describeError, renderReport } from "../../src/cli/report.ts"
import { EXIT } from "../../src/cli/exitCodes.ts"
import * as E from "../../src/domain/errors.ts"
import { colourWanted, stripColour } from "../../src/cli/colour.ts"

describe("error reports", () => {
  test("bad config is a usage error (2) naming the variable", () => {
    const r = describeError(new E.ConfigInvalid({ variable: "CHROMADB_PORT", value: "abc", expected: "a port", source: "env" }))
    expect(r.exitCode).toBe(EXIT.usage)
    expect(renderReport(r)).toContain("Error: CHROMADB_PORT is 'abc'")
    expect(r.hint).toContain("CHROMADB_PORT")
  })
  test("no engine names the real address (5)", () => {
    const r = describeError(new E.DockerUnavailable({ address: "unix:///var/run/docker.sock", reason: "connection refused" }))
    expect(r.exitCode).toBe(EXIT.noEngine)
    expect(r.message).toStartWith("Cannot connect to the Docker daemon at unix:///var/run/docker.sock")
  })
  test("parent not running keeps the guide's exact message and the fix", () => {
    const r = describeError(new E.ParentNotRunning({ container: "hal9000-parent", state: "exited" }))
    expect(r.message).toBe("Parent container 'hal9000-parent' is not running")
    expect(r.hint).toBe("claudy daemon start")
    expect(r.exitCode).toBe(EXIT.notRunning)
  })
  test("ChromaDB timeout says the real number of seconds and shows the log tail and cause", () => {
    const r = describeError(
      new E.ChromaStartTimeout({ container: "p", seconds: 7, url: "u", logTail: ["boom"], likelyCause: "port 8000 is in use by x" })
    )
    expect(r.message).toBe("ChromaDB server failed to start within 7s")
    expect(renderReport(r)).toContain("  boom")
    expect(renderReport(r)).toContain("likely cause: port 8000 is in use by x")
    expect(r.exitCode).toBe(EXIT.timeout)
  })
  test("a missing image points at claudy images build (6)", () => {
    const r = describeError(new E.ImageNotFound({ image: "x:y", role: "parent" }))
    expect(r.message).toStartWith("Unable to find image 'x:y'")
    expect(r.hint).toContain("claudy images build parent")
    expect(r.exitCode).toBe(EXIT.imageMissing)
  })
  test("conflicts exit 7", () => {
    expect(describeError(new E.PortInUse({ port: 1, holder: "h" })).exitCode).toBe(EXIT.conflict)
    expect(describeError(new E.ForeignObject({ kind: "volume", name: "v", owner: "o" })).exitCode).toBe(EXIT.conflict)
  })
})

describe("colour policy", () => {
  test("colour only for a terminal, without NO_COLOR, and not on a dumb terminal", () => {
    expect(colourWanted({}, true)).toBe(true)
    expect(colourWanted({}, false)).toBe(false)
    expect(colourWanted({ NO_COLOR: "1" }, true)).toBe(false)
    expect(colourWanted({ NO_COLOR: "" }, true)).toBe(true) // no-color.org: present and not empty
    expect(colourWanted({ TERM: "dumb" }, true)).toBe(false)
  })
  test("escape codes are taken out of text, other values are kept", () => {
    expect(stripColour(["\u001b[0;1mUSAGE\u001b[0m", 3])).toEqual(["USAGE", 3])
  })
})
