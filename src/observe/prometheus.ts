/**
 * Prometheus text exposition (pure). Effect 3 has metrics but no Prometheus text exporter of its own (that lives in
 * @effect/opentelemetry with the OpenTelemetry SDK behind it), and claudy exposes a dozen values computed at scrape
 * time, so this small renderer is the lighter choice.
 */
export interface Sample {
  readonly labels?: Readonly<Record<string, string>>
  readonly value: number
}

export interface Family {
  readonly name: string
  readonly help: string
  readonly type: "gauge" | "counter" | "histogram"
  readonly samples: ReadonlyArray<Sample & { readonly suffix?: string }>
}

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
const labelText = (l?: Readonly<Record<string, string>>) => {
  const entries = Object.entries(l ?? {})
  return entries.length === 0 ? "" : `{${entries.map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}`
}

export const render = (families: ReadonlyArray<Family>) =>
  families
    .map((f) =>
      [
        `# HELP ${f.name} ${f.help}`,
        `# TYPE ${f.name} ${f.type}`,
        ...f.samples.map((s) => `${f.name}${s.suffix ?? ""}${labelText(s.labels)} ${Number.isFinite(s.value) ? s.value : 0}`)
      ].join("\n")
    )
    .join("\n") + "\n"

/** A histogram family from observations in seconds: cumulative buckets, +Inf, sum and count. */
export const histogram = (name: string, help: string, observations: ReadonlyArray<number>, buckets: ReadonlyArray<number>): Family => ({
  name,
  help,
  type: "histogram",
  samples: [
    ...buckets.map((le) => ({ suffix: "_bucket", labels: { le: String(le) }, value: observations.filter((o) => o <= le).length })),
    { suffix: "_bucket", labels: { le: "+Inf" }, value: observations.length },
    { suffix: "_sum", value: observations.reduce((a, b) => a + b, 0) },
    { suffix: "_count", value: observations.length }
  ]
})
