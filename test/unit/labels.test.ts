import { describe, expect, test } from "bun:test"
import { homeHash, LABEL, ownerFilter, ownerLabels, ownershipOf } from "../../src/domain/labels.ts"
import { parentName, volumeName, volumeTargets } from "../../src/domain/names.ts"

const owner = { instance: "hal9000", home: homeHash("/root/.hal9000") }

describe("names", () => {
  test("follow the user guide for the default instance", () => {
    expect(parentName("hal9000")).toBe("hal9000-parent")
    expect(volumeName("hal9000", "chromadb")).toBe("hal9000-chromadb")
    expect(volumeName("hal9000", "memorybank")).toBe("hal9000-memorybank")
    expect(volumeName("hal9000", "plugins")).toBe("hal9000-plugins")
  })
  test("the ChromaDB volume follows CHROMADB_DATA_DIR", () => {
    expect(volumeTargets("/srv/chroma")).toEqual({ chromadb: "/srv/chroma", memorybank: "/data/membank", plugins: "/data/plugins" })
  })
})

describe("labels decide ownership", () => {
  test("our own labels are ours", () => expect(ownershipOf(ownerLabels(owner, "parent", "1"), owner)).toBe("ours"))
  test("no labels is foreign, whatever the name", () => {
    expect(ownershipOf(undefined, owner)).toBe("foreign")
    expect(ownershipOf({ "com.example": "x" }, owner)).toBe("foreign")
  })
  test("another HAL9000_HOME's objects are not ours", () => {
    const other = { instance: "hal9000", home: homeHash("/home/alice/.hal9000") }
    expect(ownershipOf(ownerLabels(other, "parent", "1"), owner)).toBe("other-home")
  })
  test("the filter selects managed, home and instance", () => {
    expect(ownerFilter(owner, "worker").label).toEqual([
      `${LABEL.managed}=true`,
      `${LABEL.home}=${owner.home}`,
      `${LABEL.instance}=hal9000`,
      `${LABEL.role}=worker`
    ])
  })
  test("home hashes are stable and distinct", () => {
    expect(homeHash("/a")).toBe(homeHash("/a"))
    expect(homeHash("/a")).not.toBe(homeHash("/b"))
    expect(homeHash("/a")).toHaveLength(12)
  })
})
