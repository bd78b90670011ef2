/**
 * The swarm foundation against the real lab: DOCKER_HOST must be a manager, a node's own engine comes from its
 * label, and a versioned service update is a compare-and-swap (the claim's primitive): of two updates at one
 * version exactly one wins, the other is a ServiceUpdateConflict; a label-only update does not restart the task.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { Effect, Either, Layer } from "effect"
import { Engine, engineAt } from "../../src/docker/Engine.ts"
import { parseDockerHost } from "../../src/docker/address.ts"
import { Cluster } from "../../src/swarm/Cluster.ts"
import { dockerAt, lab, type Lab } from "../support/swarm.ts"
import { waitFor } from "../support/harness.ts"

let l: Lab
const name = `tcluster${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`

const withCluster = <A, E>(host: string, body: (c: Cluster["Type"]) => Effect.Effect<A, E>) =>
  Effect.runPromise(
    Effect.either(
      Effect.flatMap(Cluster, body).pipe(
        Effect.provide(Cluster.layer),
        Effect.provide(Layer.succeed(Engine, engineAt(Either.getOrThrow(parseDockerHost(host)))))
      )
    )
  )

beforeAll(async () => {
  l = await lab()
})
afterAll(async () => {
  if (l === undefined) return
  await dockerAt(l.manager, "service", "rm", name)
  await waitFor("the test service's container to go", async () => {
    for (const host of Object.values(l.nodes)) {
      if ((await dockerAt(host, "ps", "-aq", "--filter", `label=com.docker.swarm.service.name=${name}`)).stdout.trim() !== "") return undefined
    }
    return true
  }, 60_000, 250)
})

test("the manager is accepted, a worker node is refused with the fix", async () => {
  const ok = await withCluster(l.manager, (c) => c.requireManager)
  expect(Either.isRight(ok)).toBe(true)
  const worker = await withCluster(l.nodes.n2!, (c) => c.requireManager)
  expect(Either.isLeft(worker) && worker.left._tag).toBe("SwarmUnavailable")
  expect(Either.isLeft(worker) && worker.left.message).toContain("not a manager")
})

test("each node's engine is found from its io.hal9000.engine label", async () => {
  const r = await withCluster(l.manager, (c) =>
    Effect.flatMap(c.nodes, (nodes) =>
      Effect.forEach(nodes, (n) => Effect.map(c.nodeEngine(n.ID), (e) => [n.Description.Hostname, e.address.display] as const))
    )
  )
  expect(Either.isRight(r)).toBe(true)
  if (Either.isRight(r)) expect(Object.fromEntries(r.right)).toEqual(l.nodes)
})

test("two label updates at one version: exactly one wins, the task is not restarted", async () => {
  const created = await dockerAt(l.manager, "service", "create", "--detach", "--no-resolve-image", "--name", name, "--restart-condition", "none",
    "--label", "io.hal9000.test=cas", "ghcr.io/hellblazer/hal-9000:parent", "sleep", "600")
  expect(created.code).toBe(0)
  const running = async () => {
    const r = await dockerAt(l.manager, "service", "ps", "-q", "--filter", "desired-state=running", name)
    const ps = await dockerAt(l.manager, "inspect", "--format", "{{.Status.State}}", ...r.stdout.split("\n").filter(Boolean))
    return ps.stdout.trim() === "running" ? r.stdout.trim() : undefined
  }
  const task = await waitFor("the task to run", running, 120_000, 250)
  const r = await withCluster(l.manager, (c) =>
    Effect.gen(function* () {
      const svc = yield* Effect.flatMap(c.api.inspectService(name), (o) => o)
      const claim = (who: string) =>
        Effect.either(
          c.api.updateService(svc.ID, svc.Version.Index, { ...svc.Spec, Labels: { ...svc.Spec.Labels, "io.hal9000.session": who } })
        )
      return yield* Effect.all([claim("a"), claim("b")], { concurrency: 2 })
    })
  )
  expect(Either.isRight(r)).toBe(true)
  if (Either.isLeft(r)) return
  const outcomes = r.right
  expect(outcomes.filter(Either.isRight).length).toBe(1)
  const lost = outcomes.find(Either.isLeft)
  expect(lost && Either.isLeft(lost) && lost.left._tag).toBe("ServiceUpdateConflict")
  const label = (await dockerAt(l.manager, "service", "inspect", "--format", '{{index .Spec.Labels "io.hal9000.session"}}', name)).stdout.trim()
  expect(["a", "b"]).toContain(label)
  expect(await running()).toBe(task)
})
