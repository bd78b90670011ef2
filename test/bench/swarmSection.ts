/**
 * docs/BENCHMARKS.md holds two independently measured parts: what `make bench` writes (one host) and the swarm
 * section `make bench-swarm` writes between these markers (pure). Each run rewrites only its own part.
 */
export const SWARM_BEGIN = "<!-- swarm benchmarks (make bench-swarm): begin -->"
export const SWARM_END = "<!-- swarm benchmarks: end -->"

/** The swarm section of `doc`, markers included ("" when it has none). */
export const swarmSectionOf = (doc: string) => {
  const from = doc.indexOf(SWARM_BEGIN)
  const to = doc.indexOf(SWARM_END, from)
  return from < 0 || to < 0 ? "" : doc.slice(from, to + SWARM_END.length)
}

/** `doc` with its swarm section replaced by `section` (markers included), or `section` appended when it has none. */
export const withSwarmSection = (doc: string, section: string) => {
  const old = swarmSectionOf(doc)
  if (section === "") return doc
  return old === "" ? `${doc.trimEnd()}\n\n${section}\n` : doc.replace(old, () => section)
}
