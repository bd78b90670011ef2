/**
 * Who holds a TCP port on this host: first a free-port probe (bind 127.0.0.1:port), then the engine's published
 * ports, then /proc (sockets in LISTEN state and the processes owning them). Reading /proc is Linux-only; elsewhere
 * the answer is "another process".
 */
import { Effect } from "effect"
import { readdirSync, readFileSync, readlinkSync } from "node:fs"
import { createServer } from "node:net"

/** true when nothing listens on host:port (an address this host lacks is not "in use": the bind's own error says why). */
export const portIsFree = (port: number, host = "127.0.0.1") =>
  Effect.async<boolean>((resume) => {
    const server = createServer()
    server.once("error", (e: NodeJS.ErrnoException) => resume(Effect.succeed(e.code !== "EADDRINUSE")))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resume(Effect.succeed(true))))
  })

/** Inodes of LISTEN sockets on `port` from /proc/net/tcp{,6} text (pure). */
export const listeningInodes = (procNetTcp: string, port: number): ReadonlyArray<string> =>
  procNetTcp
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 9 && f[3] === "0A" && parseInt(f[1]!.split(":")[1] ?? "", 16) === port)
    .map((f) => f[9]!)

const readOr = (path: string, fallback: string) => {
  try {
    return readFileSync(path, "utf8")
  } catch {
    return fallback
  }
}

/** "process python3 (pid 1234)" for the owner of a listening socket, if /proc tells. */
export const processHoldingPort = (port: number) =>
  Effect.sync(() => {
    const inodes = new Set(
      ["/proc/net/tcp", "/proc/net/tcp6"].flatMap((f) => listeningInodes(readOr(f, ""), port))
    )
    if (inodes.size === 0) return undefined
    let pids: Array<string> = []
    try {
      pids = readdirSync("/proc").filter((d) => /^[0-9]+$/.test(d))
    } catch {
      return undefined
    }
    for (const pid of pids) {
      let fds: Array<string> = []
      try {
        fds = readdirSync(`/proc/${pid}/fd`)
      } catch {
        continue
      }
      for (const fd of fds) {
        let link = ""
        try {
          link = readlinkSync(`/proc/${pid}/fd/${fd}`)
        } catch {
          continue
        }
        const m = /^socket:\[(\d+)\]$/.exec(link)
        if (m && inodes.has(m[1]!)) {
          const cmd = readOr(`/proc/${pid}/cmdline`, "").split("\0").filter(Boolean).join(" ")
          const comm = readOr(`/proc/${pid}/comm`, "?").trim()
          return `process ${comm} (pid ${pid}${cmd ? `: ${cmd.slice(0, 120)}` : ""})`
        }
      }
    }
    return undefined
  })
