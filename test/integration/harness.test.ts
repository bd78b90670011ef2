/** The harness's own end-of-suite check can fail: a process of a sandbox's run still alive is ended and named. */
import { expect, test } from "bun:test"
import { processesOf, sandbox, waitFor } from "../support/harness.ts"

test("a sandbox's cleanup fails naming a process of its run that is still alive, and ends it", async () => {
  const b = await sandbox()
  const stray = Bun.spawn(["sleep", "600"], { env: { ...b.env, PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdout: "ignore", stderr: "ignore" })
  await waitFor("the stray process to be seen", async () => (processesOf(b.home).includes(stray.pid) ? true : undefined), 5_000)
  await expect(b.cleanup()).rejects.toThrow(new RegExp(`left behind by this suite's run:\\n  process ${stray.pid} \\(sleep 600\\)`))
  expect(await stray.exited).not.toBe(0) // ended by the cleanup (SIGKILL)
  expect(processesOf(b.home)).toEqual([])
})
