/**
 * Node labels claudy reads on a swarm (set by the operator, or by `scripts/swarm-lab up` in the lab): how to reach
 * each node's own engine, which nodes have the projects root, and which node holds an instance's ChromaDB volume.
 */
export const NODE_LABEL = {
  /** the node's engine address (unix:///… or tcp://…): attach, resize and its volumes go there */
  engine: "io.hal9000.engine",
  /** the projects root present on this node; the same path on every node that has it */
  projectsRoot: "io.hal9000.projects-root",
  /** `true` on the one node that holds `<instance>`'s ChromaDB volume (the parent is pinned there) */
  parentOf: (instance: string) => `io.hal9000.parent.${instance}`
} as const

/** A placement constraint on a node label (Swarm's syntax). */
export const labelConstraint = (key: string, value: string) => `node.labels.${key}==${value}`
