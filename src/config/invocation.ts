/**
 * Whose command this is: the environment and working directory it was started with. In a command's own process that
 * is the process; when the control server (src/server/) runs a client's command, it is the client's, set per request
 * with `Effect.locally`, so concurrent requests never see each other's settings (the server's process.env is never
 * changed). Read by Settings.load and by the commands that resolve relative paths.
 */
import { Effect, FiberRef } from "effect"

export interface Invocation {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
}

/** Undefined: this process's own environment and directory. */
export const currentInvocation = FiberRef.unsafeMake<Invocation | undefined>(undefined)

export const invocation: Effect.Effect<Invocation> = Effect.map(
  FiberRef.get(currentInvocation),
  (i) => i ?? { env: process.env, cwd: process.cwd() }
)

/** Run `self` as the command of `who` (its environment and directory). */
export const asInvocation =
  (who: Invocation) =>
  <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.locally(self, currentInvocation, who)
