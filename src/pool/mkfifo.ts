/**
 * mkfifo(3) for a slot's claim FIFO. Node and Deno have no API for it, so there the `mkfifo` command runs; in Bun
 * (the compiled binary) libc's mkfifo is called through bun:ffi instead — no process per worker (measured: 0.3 ms
 * against 1.3-2 ms for the command, and one fork less per spawn when fifty run at once). Any trouble with the native
 * call (another libc, a failed call) falls back to the command, which also reports the error in words.
 */
import { execFileSync } from "node:child_process"
import { chmodSync } from "node:fs"

type NativeMkfifo = (path: string, mode: number) => number

let native: NativeMkfifo | null | undefined

const loadNative = (): NativeMkfifo | null => {
  if (typeof (globalThis as { Bun?: unknown }).Bun === "undefined") return null
  try {
    const { dlopen, FFIType, ptr } = require("bun:ffi") as typeof import("bun:ffi")
    const libc = dlopen("libc.so.6", { mkfifo: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 } })
    return (path, mode) => libc.symbols.mkfifo(ptr(Buffer.from(`${path}\0`)), mode)
  } catch {
    return null
  }
}

/** Create a FIFO at `path` with exactly `mode` (umask-proof: the worker user must be able to read it). */
export const mkfifo = (path: string, mode: number) => {
  if (native === undefined) native = loadNative()
  if (native !== null && native(path, mode) === 0) {
    chmodSync(path, mode)
    return
  }
  try {
    execFileSync("mkfifo", ["-m", mode.toString(8), path], { stdio: ["ignore", "ignore", "pipe"] })
  } catch (e) {
    // mkfifo's own words ("No space left on device"), not only "Command failed"
    throw new Error((e as { stderr?: Buffer }).stderr?.toString().trim() || String(e))
  }
}
