/** dockerode, loaded only by the commands that stream (build progress, attach): it costs ~30 ms of start-up. */
import type Docker from "dockerode"
import type { EngineAddress } from "./address.ts"

export const loadDockerode = async (address: EngineAddress): Promise<Docker> => {
  const { default: DockerCtor } = await import("dockerode")
  if (address._tag === "unix") return new DockerCtor({ socketPath: address.socketPath })
  const url = new URL(address.baseUrl)
  return new DockerCtor({ host: url.hostname, port: Number(url.port) })
}
