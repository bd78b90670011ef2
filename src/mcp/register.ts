/** `claudy mcp register` without the parser: merge into $CLAUDE_CONFIG_DIR (required), report on stderr, set the exit code. */
import { registerServers } from "./registrations.ts"

export const registerFromEnvironment = async (): Promise<void> => {
  const dir = process.env.CLAUDE_CONFIG_DIR
  const problem =
    dir === undefined || dir === ""
      ? "claudy mcp register: CLAUDE_CONFIG_DIR is not set (the worker image sets it to /home/claude/.claude)"
      : registerServers(dir)
  if (problem !== undefined) {
    console.error(problem)
    process.exitCode = 1
  }
}
