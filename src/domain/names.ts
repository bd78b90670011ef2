/**
 * Names of the objects claudy creates. Every name starts with the instance (HAL9000_INSTANCE, default `hal9000`),
 * so a user's claudy and a test suite's coexist on one engine. Names are for people; labels decide ownership.
 */
export const DEFAULT_INSTANCE = "hal9000"

/** Lowercase letters, digits and dashes, starting with a letter: valid in container and volume names alike. */
export const INSTANCE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/

export const parentName = (instance: string) => `${instance}-parent`

export const VOLUME_ROLES = ["chromadb", "memorybank", "plugins"] as const
export type VolumeRole = (typeof VOLUME_ROLES)[number]

export const volumeName = (instance: string, role: VolumeRole | "claude-home") => `${instance}-${role}`

/** Where each volume is mounted in the parent. The ChromaDB one follows CHROMADB_DATA_DIR. */
export const volumeTargets = (chromaDataDir: string): Record<VolumeRole, string> => ({
  chromadb: chromaDataDir,
  memorybank: "/data/membank",
  plugins: "/data/plugins"
})

/**
 * Claude Code's whole config directory, kept across sessions in every worker (not in the parent): login, settings,
 * plugins and the user's MCP servers. Created on a worker's first spawn, so a spawn without the parent has it too.
 */
export const CLAUDE_HOME_ROLE = "claude-home"
export const claudeHomeVolume = (instance: string) => `${instance}-${CLAUDE_HOME_ROLE}`
/** The Claude home of a uid other than the one the instance's Claude home belongs to (spawn/claudeHome.ts). */
export const userClaudeHomeVolume = (instance: string, uid: number) => `${claudeHomeVolume(instance)}-${uid}`

/** Every volume claudy keeps data in, as backup and restore cover them. */
export const DATA_VOLUME_ROLES = [...VOLUME_ROLES, CLAUDE_HOME_ROLE] as const
export type DataVolumeRole = (typeof DATA_VOLUME_ROLES)[number]
