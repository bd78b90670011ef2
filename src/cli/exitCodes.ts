/** Exit codes, documented in docs/CLI.md. Scripts and Makefiles branch on these, so they never change meaning. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notRunning: 3,
  unhealthy: 4,
  noEngine: 5,
  imageMissing: 6,
  conflict: 7,
  timeout: 8,
  /** Ctrl-C (SIGINT), 128 + 2 as shells report it */
  interrupted: 130,
  /** SIGTERM (e.g. `timeout`, `kill`), 128 + 15 */
  terminated: 143
} as const
