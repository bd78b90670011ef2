/**
 * Which nodes may run a project's session (pure): projects live under a projects root, the same path on every node
 * that has it (the node label io.hal9000.projects-root); a project outside every root is refused, and `--node`
 * must name a ready node with that root. Whether the project itself is there is asked of each node's engine after
 * (spawnProbe.ts): a node without it is never chosen.
 */
import { Either } from "effect"
import { UsageError } from "../domain/errors.ts"
import { NODE_LABEL } from "./nodeLabels.ts"
import type { SwarmNode } from "./types.ts"

const within = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith("/") ? dir : `${dir}/`)

export const projectsRootOf = (n: SwarmNode) => n.Spec.Labels?.[NODE_LABEL.projectsRoot] ?? ""

/** A node the scheduler may use: ready, active (not drained or paused). */
export const isSchedulable = (n: SwarmNode) => n.Status.State === "ready" && (n.Spec.Availability ?? "active") === "active"

/** The projects root (the longest) that holds `projectDir`, and the ready nodes that have it. */
export const placeProject = (
  projectDir: string,
  nodes: ReadonlyArray<SwarmNode>,
  node: string | undefined
): Either.Either<{ readonly root: string; readonly candidates: ReadonlyArray<SwarmNode> }, UsageError> => {
  const roots = [...new Set(nodes.map(projectsRootOf).filter((r) => r !== ""))].sort((a, b) => b.length - a.length)
  const root = roots.find((r) => within(projectDir, r))
  if (root === undefined) {
    return Either.left(
      new UsageError({
        detail:
          roots.length === 0
            ? `no swarm node has a projects root (node label ${NODE_LABEL.projectsRoot})`
            : `${projectDir} is not under a projects root of the swarm (${roots.join(", ")})`,
        fix:
          roots.length === 0
            ? `label the nodes that hold the projects: docker node update --label-add ${NODE_LABEL.projectsRoot}=/srv/projects NODE`
            : `put the project under ${roots[0]} (the same path on every node that has it)`
      })
    )
  }
  const withRoot = nodes.filter((n) => projectsRootOf(n) === root)
  if (node !== undefined) {
    const named = nodes.find((n) => n.Description.Hostname === node) // a hostname: the constraint is node.hostname==
    const why =
      named === undefined
        ? `the swarm has no node named ${node} (hostnames: ${nodes.map((n) => n.Description.Hostname).join(", ")})`
        : projectsRootOf(named) !== root
          ? `node ${node} has no projects root ${root}`
          : !isSchedulable(named)
            ? `node ${node} is ${named.Status.State}, ${named.Spec.Availability ?? "active"}`
            : undefined
    if (why !== undefined) {
      return Either.left(new UsageError({ detail: `--node ${node}: ${why}`, fix: "leave --node out, or name a ready node with the projects root (docker node ls)" }))
    }
    return Either.right({ root, candidates: [named!] })
  }
  const candidates = withRoot.filter(isSchedulable)
  if (candidates.length === 0) {
    return Either.left(
      new UsageError({
        detail: `no ready node has the projects root ${root} (${withRoot.map((n) => `${n.Description.Hostname}: ${n.Status.State}`).join(", ")})`,
        fix: "bring a node with the projects root back (docker node ls), or label another one"
      })
    )
  }
  return Either.right({ root, candidates })
}
