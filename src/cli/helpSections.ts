/** Sections of `claudy --help` and the spawn's help that say how sessions and authentication work. */
/** The Authentication section of --help (docs/SECURITY.md has the details). */
export const AUTHENTICATION =
  "AUTHENTICATION: a session's Claude Code uses, in this order, (1) ANTHROPIC_API_KEY in claudy's environment, " +
  "(2) the key file HAL9000_HOME/secrets/anthropic_key (yours, mode 0400 or 0600; refused otherwise), " +
  "(3) the login kept in the Claude home volume <instance>-claude-home: log in once with `claudy login`. " +
  "A key reaches the worker as a file readable by its user only, never in its environment. `claudy auth status` says which is in use."

export const SESSIONS =
  "SESSIONS: without --name a project has one session, named after its path: running claudy again on it attaches to it " +
  "(with --detach: reports it); --new starts another beside it."

