/**
 * Swarm-test helpers: the lab's environment (scripts/swarm-lab env) and a sandbox on it. Like the single-host
 * sandbox, each test has its own HAL9000_INSTANCE and HAL9000_HOME and cleans up only what carries its instance label
 * — here services and networks on the manager, containers and volumes on every node, and its node labels — then
 * fails if any of it is left.
 */
import { ROOT, type Run, run, type Sandbox, sandbox, waitFor } from "./harness.ts"

export interface Lab {
  /** HAL9000_BACKEND, DOCKER_HOST (the manager), CLAUDY_LAB_PROJECTS, CLAUDY_LAB_NODE_nN */
  readonly env: Record<string, string>
  readonly manager: string
  /** hostname -> engine address, e.g. n2 -> unix:///run/claudy-lab/n2.sock */
  readonly nodes: Record<string, string>
  readonly projectsRoot: string
}

/** The lab's exports; fails the test with the fix when the lab is not up (the swarm suite brings it up first). */
export const lab = async (): Promise<Lab> => {
  const status = await run(["bash", "scripts/swarm-lab", "status"], {}, ROOT)
  if (status.code !== 0) throw new Error(`the swarm lab is not up (run: scripts/swarm-lab up):\n${status.stdout}${status.stderr}`)
  const out = await run(["bash", "scripts/swarm-lab", "env"], {}, ROOT)
  const env: Record<string, string> = {}
  for (const m of out.stdout.matchAll(/^export ([A-Za-z0-9_]+)=(.*)$/gm)) env[m[1]!] = m[2]!
  const nodes: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (k.startsWith("CLAUDY_LAB_NODE_")) nodes[k.slice("CLAUDY_LAB_NODE_".length)] = v
  return { env, manager: env.DOCKER_HOST!, nodes, projectsRoot: env.CLAUDY_LAB_PROJECTS! }
}

/** docker against one engine of the lab */
export const dockerAt = (host: string, ...args: Array<string>): Promise<Run> => run(["docker", ...args], { DOCKER_HOST: host })

const lines = (r: Run) => r.stdout.split("\n").filter(Boolean)

export interface SwarmSandbox extends Sandbox {
  readonly lab: Lab
}

/** A sandbox whose claudy runs with HAL9000_BACKEND=swarm against the lab's manager. */
export const swarmSandbox = async (extra: Record<string, string> = {}): Promise<SwarmSandbox> => {
  const l = await lab()
  const s = await sandbox({ ...labEnvOnly(l.env), ...extra }, l.manager)
  const label = `label=io.hal9000.instance=${s.instance}`
  const engines = Object.values(l.nodes)

  const leftOnSwarm = async () => {
    const left: Array<string> = []
    left.push(...lines(await dockerAt(l.manager, "service", "ls", "-q", "--filter", label)).map((id) => `service ${id}`))
    left.push(...lines(await dockerAt(l.manager, "network", "ls", "-q", "--filter", label)).map((id) => `network ${id}`))
    for (const host of engines) {
      left.push(...lines(await dockerAt(host, "ps", "-aq", "--filter", label)).map((id) => `container ${id} on ${host}`))
      left.push(...lines(await dockerAt(host, "volume", "ls", "-q", "--filter", label)).map((v) => `volume ${v} on ${host}`))
    }
    const nodes = lines(await dockerAt(l.manager, "node", "ls", "-q"))
    for (const id of nodes) {
      const labels = JSON.parse((await dockerAt(l.manager, "node", "inspect", "--format", "{{json .Spec.Labels}}", id)).stdout || "{}") ?? {}
      if (`io.hal9000.parent.${s.instance}` in labels) left.push(`node label io.hal9000.parent.${s.instance} on ${id}`)
    }
    return left
  }

  const cleanup = async () => {
    const services = lines(await dockerAt(l.manager, "service", "ls", "-q", "--filter", label))
    if (services.length > 0) await dockerAt(l.manager, "service", "rm", ...services)
    // a removed service's containers go away on their nodes a moment later
    await waitFor(`the containers of ${s.instance} to go`, async () => {
      for (const host of engines) if (lines(await dockerAt(host, "ps", "-aq", "--filter", label)).length > 0) return undefined
      return true
    }, 60_000, 250)
    for (const host of engines) {
      const vols = lines(await dockerAt(host, "volume", "ls", "-q", "--filter", label))
      if (vols.length > 0) await dockerAt(host, "volume", "rm", "-f", ...vols)
    }
    for (const id of lines(await dockerAt(l.manager, "node", "ls", "-q"))) {
      await dockerAt(l.manager, "node", "update", "--label-rm", `io.hal9000.parent.${s.instance}`, id)
    }
    const nets = lines(await dockerAt(l.manager, "network", "ls", "-q", "--filter", label))
    if (nets.length > 0) await dockerAt(l.manager, "network", "rm", ...nets)
    await s.cleanup()
    const left = await leftOnSwarm()
    if (left.length > 0) throw new Error(`left on the swarm lab by this suite's run:\n  ${left.join("\n  ")}`)
  }
  return { ...s, lab: l, cleanup }
}

/** the lab's exports that claudy reads (CLAUDY_LAB_*: the node sockets and the projects root, for tests only) */
const labEnvOnly = (env: Record<string, string>) =>
  Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith("CLAUDY_LAB_")))
