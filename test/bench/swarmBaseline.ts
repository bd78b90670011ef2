/**
 * The swarm bench's baseline (pure): `docker service create` flags for the very spec claudy created for a session,
 * read back with `docker service inspect`, so Docker's own client creates the same service. What differs: the name,
 * the session label, no stdin hand-off (CLAUDY_HANDOFF is left out, so the image's entrypoint runs the command after
 * its usual start-up), and OpenStdin, which `docker service create` has no flag for.
 */
interface Mount {
  readonly Type: string
  readonly Source?: string
  readonly Target: string
  readonly ReadOnly?: boolean
  readonly VolumeOptions?: { readonly NoCopy?: boolean; readonly Labels?: Record<string, string> }
  readonly TmpfsOptions?: { readonly Mode?: number }
}
export interface InspectedSpec {
  readonly Labels?: Record<string, string>
  readonly TaskTemplate: {
    readonly ContainerSpec: {
      readonly Image: string
      readonly Labels?: Record<string, string>
      readonly User?: string
      readonly Dir?: string
      readonly Env?: ReadonlyArray<string>
      readonly TTY?: boolean
      readonly Mounts?: ReadonlyArray<Mount>
      readonly CapabilityDrop?: ReadonlyArray<string>
    }
    readonly Resources?: { readonly Limits?: { readonly MemoryBytes?: number; readonly NanoCPUs?: number; readonly Pids?: number } }
    readonly RestartPolicy?: { readonly Condition?: string; readonly MaxAttempts?: number }
    readonly Placement?: {
      readonly Constraints?: ReadonlyArray<string>
      readonly Preferences?: ReadonlyArray<{ readonly Spread?: { readonly SpreadDescriptor: string } }>
    }
    readonly Networks?: ReadonlyArray<{ readonly Target: string }>
  }
  readonly EndpointSpec?: { readonly Mode?: string }
}

const mountFlag = (m: Mount) =>
  [
    `type=${m.Type}`,
    ...(m.Source ? [`source=${m.Source}`] : []),
    `target=${m.Target}`,
    ...(m.ReadOnly ? ["readonly"] : []),
    ...(m.Type === "volume" ? [`volume-nocopy=${m.VolumeOptions?.NoCopy === true}`] : []),
    ...Object.entries(m.VolumeOptions?.Labels ?? {}).map(([k, v]) => `volume-label=${k}=${v}`),
    ...(m.TmpfsOptions?.Mode !== undefined ? [`tmpfs-mode=${m.TmpfsOptions.Mode.toString(8)}`] : [])
  ].join(",")

/** `docker service create` arguments (after `service create`) for `spec`, named `name`, running `command`. */
export const serviceCreateArgs = (
  spec: InspectedSpec,
  name: string,
  labels: Record<string, string>,
  command: ReadonlyArray<string>
): Array<string> => {
  const c = spec.TaskTemplate.ContainerSpec
  const t = spec.TaskTemplate
  const limits = t.Resources?.Limits
  const pairs = (flag: string, o: Record<string, string> | undefined) => Object.entries(o ?? {}).flatMap(([k, v]) => [flag, `${k}=${v}`])
  return [
    "--detach",
    "--no-resolve-image",
    "--name",
    name,
    ...pairs("--label", { ...spec.Labels, ...labels }),
    ...pairs("--container-label", { ...c.Labels, ...labels }),
    ...(c.User ? ["--user", c.User] : []),
    ...(c.Dir ? ["--workdir", c.Dir] : []),
    ...(c.Env ?? []).filter((e) => !e.startsWith("CLAUDY_HANDOFF=")).flatMap((e) => ["--env", e]),
    ...(c.TTY ? ["--tty"] : []),
    ...(c.Mounts ?? []).flatMap((m) => ["--mount", mountFlag(m)]),
    ...(c.CapabilityDrop ?? []).flatMap((cap) => ["--cap-drop", cap]),
    ...(limits?.MemoryBytes ? ["--limit-memory", `${limits.MemoryBytes}b`] : []),
    ...(limits?.NanoCPUs ? ["--limit-cpu", String(limits.NanoCPUs / 1e9)] : []),
    ...(limits?.Pids ? ["--limit-pids", String(limits.Pids)] : []),
    ...(t.RestartPolicy?.Condition ? ["--restart-condition", t.RestartPolicy.Condition] : []),
    ...(t.RestartPolicy?.MaxAttempts !== undefined ? ["--restart-max-attempts", String(t.RestartPolicy.MaxAttempts)] : []),
    ...(t.Placement?.Constraints ?? []).flatMap((x) => ["--constraint", x]),
    ...(t.Placement?.Preferences ?? []).flatMap((p) => (p.Spread ? ["--placement-pref", `spread=${p.Spread.SpreadDescriptor}`] : [])),
    ...(t.Networks ?? []).flatMap((n) => ["--network", n.Target]),
    ...(spec.EndpointSpec?.Mode ? ["--endpoint-mode", spec.EndpointSpec.Mode] : []),
    c.Image,
    ...command
  ]
}
