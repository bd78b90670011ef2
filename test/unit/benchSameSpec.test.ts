import { describe, expect, test } from "bun:test"
import { sameSpecRun } from "../bench/sameSpec.ts"

describe("the bench's same-spec docker run", () => {
  test("every mount, env, TTY, user, network, limit and hardening of the worker; the slot replaced by the bench's own", () => {
    const argv = sameSpecRun(
      {
        Config: { Image: "img:worker", Env: ["A=1", "CLAUDY_SLOT=/run/claudy"], Tty: true, OpenStdin: true, User: "1000:1000" },
        HostConfig: { NetworkMode: "container:p", Memory: 4294967296, MemorySwap: 4294967296, NanoCpus: 2e9, PidsLimit: 100, CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges"], Tmpfs: { "/home/claude": "uid=4242" } },
        Mounts: [
          { Type: "bind", Source: "/p", Destination: "/workspace", RW: true },
          { Type: "bind", Source: "/home/x/pool/slots/abc", Destination: "/run/claudy", RW: false },
          { Type: "volume", Name: "i-plugins", Source: "/var/lib/docker/volumes/i-plugins/_data", Destination: "/data/plugins", RW: false }
        ]
      },
      { label: "claudy.bench=i", slotDir: "/tmp/slot", slotTarget: "/run/claudy" }
    )
    expect(sameSpecRun({ Config: { Image: "i" }, HostConfig: { NetworkMode: "container:0123" }, Mounts: [] }, { label: "l", slotDir: "/s", slotTarget: "/run/claudy", network: "container:p" })).toEqual(
      ["docker", "run", "-d", "--label", "l", "--network", "container:p", "i"]
    )
    expect(argv.join(" ")).toBe(
      "docker run -d --label claudy.bench=i -t -i --user 1000:1000 --network container:p --memory 4294967296 --memory-swap 4294967296 " +
        "--cpus 2 --pids-limit 100 --cap-drop ALL --security-opt no-new-privileges --tmpfs /home/claude:uid=4242 -e A=1 -e CLAUDY_SLOT=/run/claudy " +
        "--mount type=bind,source=/p,target=/workspace --mount type=bind,source=/tmp/slot,target=/run/claudy,readonly " +
        "--mount type=volume,source=i-plugins,target=/data/plugins,readonly img:worker"
    )
  })
})
