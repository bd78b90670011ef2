/**
 * Docker multiplexes stdout/stderr of a container without a TTY into frames: 1 byte stream, 3 zero bytes,
 * 4 bytes big-endian length, then the payload. Pure so it is unit-tested without an engine.
 */
export const demuxFrames = (buf: Uint8Array): string => {
  const out: Array<Uint8Array> = []
  let i = 0
  const looksFramed = buf.length >= 8 && buf[0]! <= 2 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0
  if (!looksFramed) return new TextDecoder().decode(buf)
  while (i + 8 <= buf.length) {
    const size = ((buf[i + 4]! << 24) | (buf[i + 5]! << 16) | (buf[i + 6]! << 8) | buf[i + 7]!) >>> 0
    out.push(buf.subarray(i + 8, i + 8 + size))
    i += 8 + size
  }
  return out.map((b) => new TextDecoder().decode(b)).join("")
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g

/** The last `n` non-blank lines, without terminal colour codes (ChromaDB logs in colour). */
export const lastLines = (text: string, n: number): ReadonlyArray<string> =>
  text
    .split("\n")
    .map((l) => l.replace(ANSI, "").replace(/\r$/, ""))
    .filter((l) => l.trim() !== "")
    .slice(-n)
