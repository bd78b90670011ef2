/**
 * The Claude home: one labelled volume per HAL9000_HOME (`<instance>-claude-home`) mounted as Claude Code's whole
 * config directory (CLAUDE_CONFIG_DIR) in every worker, cold and warm, so login, settings, plugins and the user's MCP
 * servers outlive the session that made them. Claude Code locks its own writes to `.claude.json` (five concurrent
 * writers were tried: every change kept, the file valid), so sessions share it as they share one host user's home.
 *
 * Created on a worker's first spawn rather than by `daemon start`: a spawn without the parent needs it as much, and
 * the parent never mounts it. A new named volume is root-owned, and workers run as the project owner's uid (not
 * always the image's 1000), so it is given to that uid by a root helper once — again only when a worker of another
 * uid comes (one Claude home per user: it follows the latest uid). The uid it was given to is kept in
 * HAL9000_HOME/claude-home.owner, with the volume's creation time, so the check costs no container run.
 */
import { Effect, Option } from "effect"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ForeignObject, StateError } from "../domain/errors.ts"
import { describeOwner, type Owner, ownerLabels, ownershipOf } from "../domain/labels.ts"
import { claudeHomeVolume } from "../domain/names.ts"
import type { EngineShape } from "../docker/Engine.ts"
import type { VolumeInspect } from "../docker/types.ts"
import { runHelperWith } from "../ops/helper.ts"
import { reusedAnswer } from "../server/WarmState.ts"
import { VERSION } from "../version.ts"

/** Claude Code's config directory in every worker (CLAUDE_CONFIG_DIR; CLAUDE_HOME the same). */
export const CLAUDE_CONFIG_DIR = "/home/claude/.claude"

export const claudeHomeEnv = [`CLAUDE_CONFIG_DIR=${CLAUDE_CONFIG_DIR}`, `CLAUDE_HOME=${CLAUDE_CONFIG_DIR}`]

export const claudeHomeMount = (instance: string) => ({
  Type: "volume",
  Source: claudeHomeVolume(instance),
  Target: CLAUDE_CONFIG_DIR,
  ReadOnly: false
})

export const markerFile = (home: string) => join(home, "claude-home.owner")

/** What the marker holds for a volume given to a user (pure): a recreated volume never matches an old marker. */
export const ownerMarker = (createdAt: string, user: { readonly uid: number; readonly gid: number }) =>
  `${createdAt} ${user.uid}:${user.gid}\n`

const readMarker = (home: string) => {
  try {
    return readFileSync(markerFile(home), "utf8")
  } catch {
    return ""
  }
}

/**
 * The volume, ours; created (labelled) when absent. One of another HAL9000_HOME with the same instance (the name is
 * per instance) is not touched: None, and the worker runs without a kept home, with a warning. One that is not
 * claudy's at all is refused.
 */
export const ensureClaudeHomeVolume = (engine: EngineShape, owner: Owner) =>
  Effect.gen(function* () {
    const name = claudeHomeVolume(owner.instance)
    // in the control server, reused until a volume event
    const found = yield* reusedAnswer(engine.address.display, `volume:${name}`, engine.inspectVolume(name))
    if (Option.isSome(found)) {
      const ownership = ownershipOf(found.value.Labels, owner)
      if (ownership === "foreign") return yield* new ForeignObject({ kind: "volume", name, owner: describeOwner(found.value.Labels, ownership) })
      if (ownership === "other-home") {
        yield* Effect.logWarning(`${name} belongs to another HAL9000_HOME of instance ${owner.instance}: this worker gets no kept Claude home (use another HAL9000_INSTANCE)`)
        return Option.none<VolumeInspect>()
      }
      return found
    }
    yield* engine.createVolume(name, ownerLabels(owner, "volume", VERSION))
    yield* Effect.logInfo(`created volume ${name} (the Claude home: login, settings, plugins)`)
    return yield* engine.inspectVolume(name)
  })

/**
 * Make the volume writable for `user` before a worker of that uid starts. `image` must be present (the worker's:
 * the caller has just created a container from it); the helper runs as root with no network.
 */
export const prepareClaudeHome = (
  engine: EngineShape,
  home: string,
  owner: Owner,
  image: string,
  user: { readonly uid: number; readonly gid: number },
  volume: { readonly CreatedAt?: string | undefined }
) =>
  Effect.gen(function* () {
    const marker = ownerMarker(volume.CreatedAt ?? "", user)
    if (readMarker(home) === marker) return
    yield* runHelperWith(
      engine,
      { owner, image },
      `giving the Claude home to uid ${user.uid}`,
      `chown -R ${user.uid}:${user.gid} /claude-home && chmod 0700 /claude-home`,
      [{ type: "volume", source: claudeHomeVolume(owner.instance), target: "/claude-home", readOnly: false }]
    )
    yield* Effect.try({
      try: () => writeFileSync(markerFile(home), marker, { mode: 0o600 }),
      catch: (e) => new StateError({ path: markerFile(home), operation: "write", detail: e instanceof Error ? e.message : String(e) })
    })
  })
