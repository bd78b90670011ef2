/** Pure decisions of issue 13: profiles (detection, image names, custom Dockerfiles), the key file's checks, auth status. */
import { describe, expect, test } from "bun:test"
import { keyFileProblem } from "../../src/auth/apiKey.ts"
import { parseClaudeAuthStatus } from "../../src/auth/authStatus.ts"
import { builtinRecipe, detectProfile, dockerfileProblem, profileImage } from "../../src/images/profiles.ts"
import { ownerMarker } from "../../src/spawn/claudeHome.ts"

describe("profile detection", () => {
  const has = (...files: Array<string>) => (path: string) => files.some((f) => path.endsWith(`/${f}`))
  test.each([
    [["pom.xml"], "java", "pom.xml"],
    [["build.gradle.kts", "package.json"], "java", "build.gradle.kts"],
    [["build.gradle"], "java", "build.gradle"],
    [["requirements.txt", "package.json"], "python", "requirements.txt"],
    [["Pipfile"], "python", "Pipfile"],
    [["pyproject.toml"], "python", "pyproject.toml"],
    [["package.json"], "node", "package.json"],
    [["README.md"], "base", undefined]
  ] as const)("%p -> %s", (files, profile, file) => {
    expect(detectProfile("/p", has(...files))).toEqual({ profile, file } as ReturnType<typeof detectProfile>)
  })
})

describe("profile images", () => {
  test.each([
    ["ghcr.io/hellblazer/hal-9000:worker", "python", "ghcr.io/hellblazer/hal-9000:worker-python"],
    ["localhost:5000/claudy/worker", "java", "localhost:5000/claudy/worker:java"],
    ["worker@sha256:abc", "node", "worker:node"],
    ["img:1", "base", "img:1"]
  ])("%s + %s -> %s", (worker, profile, image) => expect(profileImage(worker, profile)).toBe(image))

  test("built-in recipes start FROM the worker image and end as its user", () => {
    for (const p of ["python", "node", "java"] as const) {
      const d = builtinRecipe(p).files["Dockerfile"]!
      expect(dockerfileProblem(d, "w:1")).toBeUndefined()
      expect(d.trim().split("\n").filter((l) => l.startsWith("USER")).pop()).toBe("USER claude")
    }
    expect(builtinRecipe("java").files["Dockerfile"]).toContain("default-jdk-headless maven gradle")
    expect(builtinRecipe("python").files["Dockerfile"]).toContain("python3-venv python3-pip")
  })

  test.each([
    ["ARG WORKER_IMAGE\nFROM ${WORKER_IMAGE}\n", undefined],
    ["# syntax=docker/dockerfile:1\n\nFROM $WORKER_IMAGE AS tools\n", undefined],
    ["FROM --platform=linux/amd64 w:1\n", undefined],
    ["FROM debian:trixie-slim\n", "it starts FROM debian:trixie-slim, not the worker image"],
    ["RUN true\nFROM w:1\n", "its first instruction is 'RUN', not FROM"],
    ["# nothing\n", "it has no FROM instruction"]
  ])("custom Dockerfile %p", (text, problem) => expect(dockerfileProblem(text, "w:1")).toBe(problem))
})

describe("the API key file", () => {
  test.each([
    [{ uid: 1000, mode: 0o100400, isFile: true }, undefined],
    [{ uid: 1000, mode: 0o100600, isFile: true }, undefined],
    [{ uid: 1000, mode: 0o100644, isFile: true }, "its mode is 0644: group or others may read it"],
    [{ uid: 1000, mode: 0o100640, isFile: true }, "its mode is 0640: group or others may read it"],
    [{ uid: 0, mode: 0o100400, isFile: true }, "it belongs to uid 0, not to you (uid 1000)"],
    [{ uid: 1000, mode: 0o40700, isFile: false }, "it is not a regular file"]
  ])("%p", (st, problem) => expect(keyFileProblem(st, 1000)).toBe(problem))
})

describe("auth status", () => {
  test("reads Claude Code's JSON, also with lines around it", () => {
    expect(parseClaudeAuthStatus('noise\n{"loggedIn": true, "authMethod": "claude.ai", "subscriptionType": "pro"}\n')).toEqual({
      persisted: true,
      method: "claude.ai",
      subscription: "pro"
    })
    expect(parseClaudeAuthStatus('{"loggedIn": false, "authMethod": "none"}')).toEqual({ persisted: false })
    expect(parseClaudeAuthStatus("command not found").persisted).toBeNull()
  })
  test("the Claude home's owner marker changes with the volume and the uid", () => {
    const m = ownerMarker("2026-12-02T05:20:24Z", { uid: 1000, gid: 1000 })
    expect(ownerMarker("2026-12-02T05:20:25Z", { uid: 1000, gid: 1000 })).not.toBe(m)
    expect(ownerMarker("2026-12-02T05:20:24Z", { uid: 1001, gid: 1001 })).not.toBe(m)
  })
})
