/**
 * The Claude home: one labelled volume per HAL9000_HOME (`<instance>-claude-home`) mounted as Claude Code's whole
 * config directory (CLAUDE_CONFIG_DIR) in every worker, cold and warm, so login, settings, plugins and the user's MCP
 * servers outlive the session that made them. Claude Code locks its own writes to `.claude.json` (five concurrent
 * writers were tried: every change kept, the file valid), so sessions share it as they share one host user's home.
 *
 * Created on a worker's first spawn rather than by `daemon start`: a spawn without the parent needs it as much, and
 * the parent never mounts it. A new named volume is root-owned, and workers run as the project owner's uid (not
 * always the image's 1000), so it is given to that uid by a root helper once. One Claude home per user, as on a
 * laptop: the instance's volume belongs to the first uid it was given to, and a worker of another uid gets a volume
 * of its own (`<instance>-claude-home-<uid>`). Giving one volume to each new uid (as before) took the home away from
 * the sessions still running as the previous uid (Claude Code then read no config: "No MCP servers configured") and
 * let one user's workers read another's login. The uid a volume was given to is kept in HAL9000_HOME/<volume
 * role>.owner, with the volume's identity, so the check costs no container run. The identity is a random label set
 * at creation: the engine's CreatedAt is the volume directory's mtime, which moves whenever Claude Code adds a file
 * at the top of its home, and each move cost a `chown -R` helper on the next spawn (volumes of older claudy
 * versions, without the label, still go by CreatedAt).
 */
import { Effect, Option } from "effect"
import { randomBytes } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ForeignObject, StateError } from "../domain/errors.ts"
import { describeOwner, LABEL, type Owner, ownerLabels, ownershipOf } from "../domain/labels.ts"
import { CLAUDE_HOME_ROLE, claudeHomeVolume, userClaudeHomeVolume } from "../domain/names.ts"
import type { EngineShape } from "../docker/Engine.ts"
import type { VolumeInspect } from "../docker/types.ts"
import { runHelperWith } from "../ops/helper.ts"
import { reusedAnswer } from "../server/WarmState.ts"
import { VERSION } from "../version.ts"

/** Claude Code's config directory in every worker (CLAUDE_CONFIG_DIR; CLAUDE_HOME the same). */
export const CLAUDE_CONFIG_DIR = "/home/claude/.claude"

export const claudeHomeEnv = [`CLAUDE_CONFIG_DIR=${CLAUDE_CONFIG_DIR}`, `CLAUDE_HOME=${CLAUDE_CONFIG_DIR}`]

/** `volume`: the Claude home a worker's uid uses (claudeHomeFor); the instance's own by default. */
export const claudeHomeMount = (instance: string, volume = claudeHomeVolume(instance)) => ({
  Type: "volume",
  Source: volume,
  Target: CLAUDE_CONFIG_DIR,
  ReadOnly: false
})

/** Whom a Claude home volume was given to: `claude-home.owner` for the instance's own, `claude-home-<uid>.owner`. */
export const markerFile = (home: string, uid?: number) => join(home, `${CLAUDE_HOME_ROLE}${uid === undefined ? "" : `-${uid}`}.owner`)
/** Every marker file name (reset --volumes removes them with the volumes). */
export const isMarkerFile = (name: string) => /^claude-home(-[0-9]+)?\.owner$/.test(name)

/** The uid in a marker's text ("<created> <uid>:<gid>"), or undefined (pure). */
export const markerUid = (text: string): number | undefined => {
  const m = /^\S* ?\b([0-9]+):[0-9]+$/.exec(text.trim())
  return m === null ? undefined : Number(m[1])
}

/**
 * Which Claude home a worker of `uid` mounts (pure): the instance's own when it was given to nobody yet or to this
 * uid, else the uid's own volume. `markerFile` says where its own marker is kept (undefined: the instance's).
 */
export const claudeHomeFor = (instance: string, ownerUid: number | undefined, uid: number) =>
  ownerUid === undefined || ownerUid === uid
    ? { volume: claudeHomeVolume(instance), markerUid: undefined }
    : { volume: userClaudeHomeVolume(instance, uid), markerUid: uid }

/** What the marker holds for a volume given to a user (pure): a recreated volume never matches an old marker. */
export const ownerMarker = (identity: string, user: { readonly uid: number; readonly gid: number }) =>
  `${identity} ${user.uid}:${user.gid}\n`

/** A volume's identity for its marker (pure): the label claudy sets at creation, else (older volumes) CreatedAt. */
export const volumeIdentity = (v: { readonly Labels?: Readonly<Record<string, string>> | null | undefined; readonly CreatedAt?: string | undefined }) =>
  v.Labels?.[LABEL.volumeId] ?? v.CreatedAt ?? ""

export const readMarker = (file: string) => {
  try {
    return readFileSync(file, "utf8")
  } catch {
    return ""
  }
}

/**
 * The volume, ours; created (labelled) when absent. One of another HAL9000_HOME with the same instance (the name is
 * per instance) is not touched: None, and the worker runs without a kept home, with a warning. One that is not
 * claudy's at all is refused.
 */
export const ensureClaudeHomeVolume = (engine: EngineShape, owner: Owner, name: string) =>
  Effect.gen(function* () {
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
    yield* engine.createVolume(name, { ...ownerLabels(owner, "volume", VERSION), [LABEL.volumeId]: randomBytes(8).toString("hex") })
    yield* Effect.logInfo(`created volume ${name} (the Claude home: login, settings, plugins)`)
    return yield* engine.inspectVolume(name)
  })

/**
 * One prepare at a time in a process, the marker read under it: concurrent spawns of the control server (a burst of
 * first spawns on a new home) wait for one `chown -R` helper and then find its marker, instead of running one each.
 */
const preparing = Effect.unsafeMakeSemaphore(1)

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
  volume: VolumeInspect,
  markerUid: number | undefined
) =>
  Effect.gen(function* () {
    const marker = ownerMarker(volumeIdentity(volume), user)
    const file = markerFile(home, markerUid)
    if (readMarker(file) === marker) return
    yield* runHelperWith(
      engine,
      { owner, image },
      `giving the Claude home to uid ${user.uid}`,
      `chown -R ${user.uid}:${user.gid} /claude-home && chmod 0700 /claude-home`,
      [{ type: "volume", source: volume.Name, target: "/claude-home", readOnly: false }]
    )
    yield* Effect.try({
      try: () => writeFileSync(file, marker, { mode: 0o600 }),
      catch: (e) => new StateError({ path: file, operation: "write", detail: e instanceof Error ? e.message : String(e) })
    })
  }).pipe(preparing.withPermits(1))
