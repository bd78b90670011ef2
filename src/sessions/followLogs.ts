/**
 * `sessions logs -f` and `daemon logs -f`: stream a container's log until it stops or the user interrupts
 * (dockerode stream; Ctrl-C interrupts the effect, which destroys the stream: no output after, exit 130).
 */
import { Effect } from "effect"
import { AttachFailed } from "../domain/errors.ts"
import type { EngineAddress } from "../docker/address.ts"
import type { LogWindow } from "../docker/types.ts"
import { loadDockerode } from "../docker/dockerode.ts"
import { restoreNormalJit } from "../observe/jitPolicy.ts"

export const followLogs = (
  address: EngineAddress,
  session: string,
  id: string,
  tty: boolean,
  tail: number,
  more: LogWindow = {},
  /** a swarm session's logs come through the manager: its service's, not a container's */
  of: "container" | "service" = "container"
) =>
  Effect.async<void, AttachFailed>((resume) => {
    let stream: NodeJS.ReadableStream | undefined
    restoreNormalJit()
    loadDockerode(address)
      .then(async (docker) => {
        const source = of === "service" ? docker.getService(id) : docker.getContainer(id)
        stream = (await source.logs({ follow: true, stdout: true, stderr: true, tail, ...more })) as NodeJS.ReadableStream
        if (tty) stream.pipe(process.stdout, { end: false })
        else docker.modem.demuxStream(stream, process.stdout, process.stderr)
        stream.on("end", () => resume(Effect.void))
        stream.on("error", (e) => resume(Effect.fail(new AttachFailed({ session, detail: String(e) }))))
      })
      .catch((e) => resume(Effect.fail(new AttachFailed({ session, detail: e instanceof Error ? e.message : String(e) }))))
    return Effect.sync(() => (stream as { destroy?: () => void } | undefined)?.destroy?.())
  })
