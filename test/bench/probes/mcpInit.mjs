// Run inside a worker by `make bench` (node, the worker's own): start `claudy mcp chroma` as Claude Code does, send
// initialize, and time until its answer arrives; 2 warm-ups, then RUNS timed runs. Prints the seconds as JSON.
import { spawn } from "node:child_process"

const runs = Number(process.argv[2] ?? 15)
const init = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } }
})
const times = []
for (let i = 0; i < runs + 2; i++) {
  const t0 = performance.now()
  const p = spawn("claudy", ["mcp", "chroma"], { stdio: ["pipe", "pipe", "inherit"] })
  p.stdin.write(`${init}\n`)
  await new Promise((resolve, reject) => {
    p.stdout.once("data", resolve)
    p.once("exit", () => reject(new Error("claudy mcp chroma exited before answering initialize")))
  })
  const t = (performance.now() - t0) / 1000
  p.stdin.end()
  await new Promise((resolve) => p.once("exit", resolve))
  if (i >= 2) times.push(t)
}
console.log(JSON.stringify(times))
