/**
 * `docker run -d` of the same spec as a claudy worker (pure): its flags read back from the worker's `docker inspect`,
 * so the baseline the spawn targets compare against is the container claudy creates — every mount (project, slot,
 * memory bank, plugins, the claudy binary, the Claude home), environment, TTY, user, network, limits and hardening —
 * not a smaller one. The slot is the bench's own empty directory: without a claim FIFO the entrypoint runs the
 * command at once, after the same MCP registration a worker does.
 */
export interface WorkerInspect {
  readonly Config: { readonly Image: string; readonly Env?: ReadonlyArray<string> | null; readonly Tty?: boolean; readonly OpenStdin?: boolean; readonly User?: string }
  readonly HostConfig: {
    readonly NetworkMode?: string
    readonly Memory?: number
    readonly MemorySwap?: number
    readonly NanoCpus?: number
    readonly PidsLimit?: number | null
    readonly CapDrop?: ReadonlyArray<string> | null
    readonly SecurityOpt?: ReadonlyArray<string> | null
    readonly Tmpfs?: Readonly<Record<string, string>> | null
  }
  readonly Mounts: ReadonlyArray<{ readonly Type: string; readonly Name?: string; readonly Source: string; readonly Destination: string; readonly RW: boolean }>
}

/** `network`: instead of the worker's (its `container:<id>` names the parent's run then, which a restart replaces). */
export const sameSpecRun = (
  w: WorkerInspect,
  o: { readonly label: string; readonly slotDir: string; readonly slotTarget: string; readonly network?: string }
): Array<string> => {
  const h = w.HostConfig
  const mount = (m: WorkerInspect["Mounts"][number]) => {
    const source = m.Destination === o.slotTarget ? o.slotDir : m.Type === "volume" ? m.Name ?? m.Source : m.Source
    return ["--mount", `type=${m.Type},source=${source},target=${m.Destination}${m.RW ? "" : ",readonly"}`]
  }
  return [
    "docker", "run", "-d",
    "--label", o.label,
    ...(w.Config.Tty ? ["-t"] : []),
    ...(w.Config.OpenStdin ? ["-i"] : []),
    ...(w.Config.User ? ["--user", w.Config.User] : []),
    ...(o.network ?? h.NetworkMode ? ["--network", o.network ?? h.NetworkMode!] : []),
    ...(h.Memory ? ["--memory", String(h.Memory)] : []),
    ...(h.MemorySwap ? ["--memory-swap", String(h.MemorySwap)] : []),
    ...(h.NanoCpus ? ["--cpus", String(h.NanoCpus / 1e9)] : []),
    ...(h.PidsLimit ? ["--pids-limit", String(h.PidsLimit)] : []),
    ...(h.CapDrop ?? []).flatMap((c) => ["--cap-drop", c]),
    ...(h.SecurityOpt ?? []).flatMap((s) => ["--security-opt", s]),
    ...Object.entries(h.Tmpfs ?? {}).flatMap(([path, opts]) => ["--tmpfs", opts === "" ? path : `${path}:${opts}`]),
    ...(w.Config.Env ?? []).flatMap((e) => ["-e", e]),
    ...w.Mounts.flatMap(mount),
    w.Config.Image
  ]
}
