/**
 * `claudy doctor` with HAL9000_BACKEND=swarm: the manager, then each node — ready, its own engine reachable through its
 * io.hal9000.engine label, the claudy images there, and `NoNewPrivs: 1` inside a container it runs (Swarm on Engine
 * 20.10 cannot ask for no-new-privileges per service, so each node's dockerd must run with --no-new-privileges) —
 * then the projects root and the parent service. Checks never change anything; nodes are checked side by side.
 */
import { Effect, Option } from "effect"
import { Settings } from "../config/Settings.ts"
import type { EngineShape } from "../docker/Engine.ts"
import { describeEngine, engineKind } from "../docker/engineKind.ts"
import { type Check, check, parentCheck } from "../ops/doctor.ts"
import { runHelperWith } from "../ops/helper.ts"
import { ownerOf } from "../state/home.ts"
import { Cluster } from "./Cluster.ts"
import { NODE_LABEL } from "./nodeLabels.ts"
import { withSwarmParent } from "./parentCommands.ts"
import { SwarmParent } from "./parentService.ts"
import type { SwarmNode } from "./types.ts"

const NNP_FIX =
  "start that node's dockerd with --no-new-privileges (or \"no-new-privileges\": true in its /etc/docker/daemon.json): a swarm service cannot ask for it on Engine 20.10 (docs/SCALE-OUT.md)"

/** `NoNewPrivs:` as /proc/self/status shows it in a container (pure): 1, 0, or unknown. */
export const noNewPrivsOf = (status: string): "1" | "0" | undefined => {
  const m = /^NoNewPrivs:\s*([01])\s*$/m.exec(status)
  return m ? (m[1] as "1" | "0") : undefined
}

/** The node's swap in kB, from /proc/meminfo as a container sees it (the host's: meminfo is not namespaced; pure). */
export const swapKbOf = (meminfo: string): number | undefined => {
  const m = /^SwapTotal:\s*(\d+) kB$/m.exec(meminfo)
  return m ? Number(m[1]) : undefined
}

/** The checks of one node: it is ready, its engine answers, the images are there, NoNewPrivs is 1 in a container. */
const nodeChecks = (cluster: Cluster["Type"], node: SwarmNode, images: { readonly parent: string; readonly worker: string }, holds: boolean) =>
  Effect.gen(function* () {
    const { settings } = yield* Settings
    const host = node.Description.Hostname
    const checks: Array<Check> = []
    const ready = node.Status.State === "ready" && node.Spec.Availability !== "drain"
    checks.push(
      ready
        ? check(`node ${host}`, "ok", `${node.Spec.Role ?? "worker"}, ready, ${node.Spec.Availability ?? "active"}${holds ? ", holds the parent's volumes" : ""}`)
        : check(`node ${host}`, holds ? "fail" : "warn", `${node.Status.State}${node.Status.Message ? ` (${node.Status.Message})` : ""}, ${node.Spec.Availability ?? "?"}`,
            holds ? "the parent is pinned to this node: bring its engine back (docker node ls on the manager)" : "spawns avoid it until it is ready")
    )
    const engine = yield* Effect.either(cluster.engineOf(node))
    if (engine._tag === "Left") {
      checks.push(check(`engine ${host}`, "fail", engine.left.message, `docker node update --label-add ${NODE_LABEL.engine}=unix:///path/to/docker.sock ${host} (or tcp://HOST:PORT)`))
      return checks
    }
    const e: EngineShape = engine.right
    const version = yield* Effect.either(e.version)
    if (version._tag === "Left") {
      checks.push(check(`engine ${host}`, "fail", `${e.address.display}: ${version.left.message}`, `make ${NODE_LABEL.engine} on ${host} name an address this host reaches (a forwarded socket or tcp://)`))
      return checks
    }
    const info = (yield* e.info.pipe(Effect.orElseSucceed(() => ({})))) as Record<string, unknown>
    checks.push(check(`engine ${host}`, "ok", `${e.address.display}: ${describeEngine(engineKind(version.right, info))}`))
    const [parentImage, workerImage] = yield* Effect.all([e.inspectImage(images.parent), e.inspectImage(images.worker)], { concurrency: 2 }).pipe(
      Effect.orElseSucceed(() => [Option.none(), Option.none()] as const)
    )
    const missing = [...(Option.isNone(parentImage) ? [images.parent] : []), ...(Option.isNone(workerImage) ? [images.worker] : [])]
    checks.push(
      missing.length === 0
        ? check(`images ${host}`, "ok", `${images.parent}, ${images.worker}`)
        : check(`images ${host}`, holds && Option.isNone(parentImage) ? "fail" : "warn", `not on ${host}: ${missing.join(", ")}`,
            `build them there (DOCKER_HOST=${e.address.display} claudy images build) or load them (docker save IMAGE | docker -H ${e.address.display} load)`)
    )
    // a container of an image the node has: the worker's (what sessions run), else the parent's
    const image = Option.isSome(workerImage) ? images.worker : Option.isSome(parentImage) ? images.parent : undefined
    if (image === undefined) {
      checks.push(check(`no-new-privileges ${host}`, "warn", `not checked: no claudy image on ${host} to run a container of`, "load the images there (see above)"))
      return checks
    }
    const probe = yield* Effect.either(
      runHelperWith(e, { owner: ownerOf(settings), image, user: "1000:1000" }, `no-new-privileges check on ${host}`, "cat /proc/self/status /proc/meminfo", [])
    )
    const nnp = probe._tag === "Right" ? noNewPrivsOf(probe.right) : undefined
    checks.push(
      nnp === "1"
        ? check(`no-new-privileges ${host}`, "ok", `NoNewPrivs: 1 in a container on ${host}`)
        : nnp === "0"
          ? check(`no-new-privileges ${host}`, "fail", `NoNewPrivs: 0 in a container on ${host}: its dockerd runs without --no-new-privileges`, NNP_FIX)
          : check(`no-new-privileges ${host}`, "fail", `no container could run on ${host}: ${probe._tag === "Left" ? probe.left.message : "no NoNewPrivs line"}`, "claudy doctor again; docker -H the node's engine ps -a")
    )
    // Swarm (API 1.41) sets no swap limit: on a node with swap a worker may swap as much again as WORKER_MEMORY
    const swap = probe._tag === "Right" ? swapKbOf(probe.right) : undefined
    if (swap !== undefined) {
      checks.push(
        swap === 0
          ? check(`swap ${host}`, "ok", "no swap: a worker's memory limit is its whole memory")
          : check(`swap ${host}`, "warn", `${(swap / 1024 ** 2).toFixed(1)} GiB of swap: a worker may swap as much again as WORKER_MEMORY (a swarm service has no swap limit)`,
              `swapoff -a on nodes that run workers (docs/SCALE-OUT.md)`)
      )
    }
    return checks
  })

export const swarmChecks = withSwarmParent(
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const parent = yield* SwarmParent
    const { settings } = yield* Settings
    const display = cluster.manager.address.display
    const manager = yield* Effect.either(cluster.requireManager)
    if (manager._tag === "Left") {
      const fix = manager.left._tag === "SwarmUnavailable" ? manager.left.fix : "start Docker or set DOCKER_HOST to a swarm manager"
      return [check("manager", "fail", manager.left.message, fix)]
    }
    const nodes = [...(yield* cluster.nodes)].sort((a, b) => a.Description.Hostname.localeCompare(b.Description.Hostname))
    const holder = nodes.find((n) => n.Spec.Labels?.[NODE_LABEL.parentOf(settings.instance)] === "true")
    const self = nodes.find((n) => n.ID === manager.right.Swarm.NodeID)
    const checks: Array<Check> = [
      check("manager", "ok", `${display}: manager of a swarm of ${nodes.length} node${nodes.length === 1 ? "" : "s"}${self ? ` (this is ${self.Description.Hostname})` : ""}`)
    ]
    const perNode = yield* Effect.forEach(
      nodes,
      (n) => nodeChecks(cluster, n, { parent: settings.parentImage, worker: settings.workerImage }, n.ID === holder?.ID),
      { concurrency: "unbounded" }
    )
    checks.push(...perNode.flat())
    const roots = nodes.flatMap((n) => {
      const root = n.Spec.Labels?.[NODE_LABEL.projectsRoot]
      return root ? [`${n.Description.Hostname}: ${root}`] : []
    })
    checks.push(
      roots.length > 0
        ? check("projects root", "ok", roots.join(", "))
        : check("projects root", "warn", `no node has the ${NODE_LABEL.projectsRoot} label: sessions have nowhere to run`,
            `docker node update --label-add ${NODE_LABEL.projectsRoot}=/srv/projects NODE (the same path on every node that has it)`)
    )
    const status = yield* Effect.either(parent.status)
    checks.push(status._tag === "Left" ? check("parent", "fail", status.left.message, "see: claudy daemon status") : parentCheck(status.right))
    return checks
  })
)
