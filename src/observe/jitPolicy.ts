/**
 * dist/claudy starts with JavaScriptCore's tier-up thresholds × 1000 (scripts/build: `--compile-jit-policy`): a
 * command lives for ~50 ms of run-once code, and compiling that code on JIT threads cost more than it saved
 * (measured: `daemon status` 55 -> 40 ms, with half the CPU; see docs/BENCHMARKS.md). A command that stays — `daemon
 * run`, `pool run`, an attached session, `logs -f` — restores the normal policy once it is under way.
 * A no-op outside the compiled binary (Node, Deno, bun test).
 */
import { Effect } from "effect"

type BunUnsafe = { readonly unsafe?: { readonly setJITPolicy?: (scale: number) => void } }

export const restoreNormalJit = (): void => (globalThis as { Bun?: BunUnsafe }).Bun?.unsafe?.setJITPolicy?.(1)

export const normalJitPolicy = Effect.sync(restoreNormalJit)
