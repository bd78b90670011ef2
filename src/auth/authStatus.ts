/**
 * `claudy auth status`: which credentials a new session would use, never the secret itself. The persisted login is
 * asked of Claude Code itself (`claude auth status --json`, in a short-lived container of the worker image with the
 * Claude home mounted, no network): claudy does not read the credential file.
 */
import { Effect, Option } from "effect"
import { readFileSync } from "node:fs"
import { type Settings } from "../config/variables.ts"
import { ownershipOf } from "../domain/labels.ts"
import { claudeHomeVolume } from "../domain/names.ts"
import type { EngineShape } from "../docker/Engine.ts"
import { runHelperWith } from "../ops/helper.ts"
import { CLAUDE_CONFIG_DIR, claudeHomeEnv, markerFile } from "../spawn/claudeHome.ts"
import { IMAGE_USER } from "../spawn/workerSpec.ts"
import { ownerOf } from "../state/home.ts"
import { keyFile, resolveApiKey } from "./apiKey.ts"

export interface LoginState {
  /** null when it could not be asked (no worker image) */
  readonly persisted: boolean | null
  readonly method?: string
  readonly subscription?: string
  readonly detail?: string
}

export interface AuthStatus {
  /** what a new session uses: the key from the environment or the file, else the persisted login, else nothing */
  readonly source: "env" | "file" | "login" | "none"
  readonly api_key_file: string
  readonly claude_home: string
  readonly login: LoginState
}

/** The fields of Claude Code's `auth status --json` claudy shows (pure; tolerant of log lines around the JSON). */
export const parseClaudeAuthStatus = (output: string): LoginState => {
  const start = output.indexOf("{")
  const end = output.lastIndexOf("}")
  if (start < 0 || end < start) return { persisted: null, detail: "Claude Code's auth status gave no JSON" }
  try {
    const j = JSON.parse(output.slice(start, end + 1)) as { loggedIn?: unknown; authMethod?: unknown; subscriptionType?: unknown }
    return {
      persisted: j.loggedIn === true,
      ...(typeof j.authMethod === "string" && j.authMethod !== "none" ? { method: j.authMethod } : {}),
      ...(typeof j.subscriptionType === "string" ? { subscription: j.subscriptionType } : {})
    }
  } catch {
    return { persisted: null, detail: "Claude Code's auth status gave no JSON" }
  }
}

/** The uid:gid the Claude home was last given to (its files are that user's), else the image's user. */
const homeUser = (home: string) => {
  try {
    return readFileSync(markerFile(home), "utf8").trim().split(" ").pop() ?? ""
  } catch {
    return `${IMAGE_USER.uid}:${IMAGE_USER.gid}`
  }
}

export const persistedLogin = (engine: EngineShape, settings: Settings) =>
  Effect.gen(function* () {
    const owner = ownerOf(settings)
    const volume = claudeHomeVolume(settings.instance)
    const found = yield* engine.inspectVolume(volume)
    if (Option.isNone(found) || ownershipOf(found.value.Labels, owner) !== "ours") {
      return { persisted: false, detail: `no Claude home yet (${volume} is created by the first spawn)` } satisfies LoginState
    }
    if (Option.isNone(yield* engine.inspectImage(settings.workerImage))) {
      return { persisted: null, detail: `the worker image ${settings.workerImage} is not present (claudy images build worker)` } satisfies LoginState
    }
    const output = yield* runHelperWith(
      engine,
      { owner, image: settings.workerImage, user: homeUser(settings.home), env: claudeHomeEnv },
      "asking Claude Code for the login kept in the Claude home",
      // exits 1 when logged out: that is an answer, not a failure
      "claude auth status --json; true",
      [{ type: "volume", source: volume, target: CLAUDE_CONFIG_DIR, readOnly: false }]
    )
    return parseClaudeAuthStatus(output)
  })

export const authStatus = (engine: EngineShape, settings: Settings) =>
  Effect.gen(function* () {
    const key = yield* resolveApiKey(settings)
    const login = yield* persistedLogin(engine, settings)
    const source: AuthStatus["source"] = key.source !== "none" ? key.source : login.persisted === true ? "login" : "none"
    return {
      source,
      api_key_file: key.path ?? keyFile(settings.home),
      claude_home: claudeHomeVolume(settings.instance),
      login
    } satisfies AuthStatus
  })
