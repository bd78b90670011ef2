/**
 * HAL9000_HOME as a path (pure, string only: the thin client finds its server's socket with it before anything loads,
 * and even node:path costs that start ≈ 1 ms; Settings normalizes the same spelling, variables.ts).
 */

/**
 * `~` and `~/…` spelled out against `userHome`, as a shell would; undefined when the result is not an absolute path.
 * Not normalized (`..`, `//`): the kernel resolves those in a path it is given as path.resolve would.
 */
export const spelledOutHome = (raw: string, userHome: string): string | undefined => {
  const spelled = raw === "~" ? userHome : raw.startsWith("~/") ? `${userHome}/${raw.slice(2)}` : raw
  return raw.trim() !== "" && spelled.startsWith("/") ? spelled : undefined
}

/** HAL9000_HOME's default. */
export const defaultHome = (userHome: string) => `${userHome}/.hal9000`
