/**
 * HAL9000_HOME as a path (pure, no Effect: the thin client resolves it before anything loads, exactly as Settings).
 */
import { isAbsolute, resolve } from "node:path"

/** `~` and `~/…` expanded against `userHome`; undefined when the result is not an absolute path. */
export const expandHome = (raw: string, userHome: string): string | undefined => {
  const expanded = raw === "~" ? userHome : raw.startsWith("~/") ? resolve(userHome, raw.slice(2)) : raw
  return raw.trim() !== "" && isAbsolute(expanded) ? resolve(expanded) : undefined
}

/** HAL9000_HOME's default. */
export const defaultHome = (userHome: string) => `${userHome}/.hal9000`
