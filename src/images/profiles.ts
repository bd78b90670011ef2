/**
 * Language profiles: images on top of the worker image with a language's tools. Built-in recipes are embedded in the
 * binary; a custom profile is HAL9000_HOME/profiles/<name>/Dockerfile, which must start FROM the worker image (it is
 * built with the build argument WORKER_IMAGE). A project's profile is detected from its files. Pure, except the
 * reads of a project's and a profile's directory.
 */
import { Either } from "effect"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import type { Recipe } from "./recipes.ts"

export const BUILTIN_PROFILES = ["base", "python", "node", "java"] as const
export type BuiltinProfile = (typeof BUILTIN_PROFILES)[number]

export const PROFILE_NAME = /^[a-z][a-z0-9-]{0,23}$/
export const PROFILE_NAME_FORM = "1 to 24 lowercase letters, digits and dashes, starting with a letter"

/** Project files that choose a profile, in the order they are looked for: the first found wins. */
export const DETECTION: ReadonlyArray<readonly [BuiltinProfile, ReadonlyArray<string>]> = [
  ["java", ["pom.xml", "build.gradle", "build.gradle.kts"]],
  ["python", ["pyproject.toml", "requirements.txt", "Pipfile"]],
  ["node", ["package.json"]]
]

/** The profile a project's files ask for, and the file that decided (base when none does). */
export const detectProfile = (projectDir: string, exists: (path: string) => boolean = existsSync) => {
  for (const [profile, files] of DETECTION) {
    const found = files.find((f) => exists(join(projectDir, f)))
    if (found !== undefined) return { profile, file: found } as const
  }
  return { profile: "base", file: undefined } as const
}

/**
 * A profile's image tag, derived from the worker image: `repo:tag` → `repo:tag-<profile>`, `repo` → `repo:<profile>`
 * (a digest reference loses its digest). The base profile is the worker image itself.
 */
export const profileImage = (workerImage: string, profile: string) => {
  if (profile === "base") return workerImage
  const ref = workerImage.split("@")[0]!
  const slash = ref.lastIndexOf("/")
  const colon = ref.lastIndexOf(":")
  return colon > slash ? `${ref}-${profile}` : `${ref}:${profile}`
}

const apt = (packages: string) => `USER root
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ${packages} \\
 && rm -rf /var/lib/apt/lists/*
`

const onWorker = (body: string) => `ARG WORKER_IMAGE=ghcr.io/hellblazer/hal-9000:worker
FROM \${WORKER_IMAGE}
${body}USER claude
WORKDIR /workspace
`

export const TYPESCRIPT_VERSION = "5.6.3"
export const PNPM_VERSION = "9.12.3"

/** Debian's packages where Debian has them (no registry beyond its mirror needed); node's tools from npm, pinned. */
const BUILTIN_DOCKERFILES: Record<Exclude<BuiltinProfile, "base">, string> = {
  python: onWorker(apt("python3 python3-venv python3-pip")),
  node: onWorker(
    `USER root
RUN npm install -g --no-audit --no-fund typescript@${TYPESCRIPT_VERSION} pnpm@${PNPM_VERSION} && npm cache clean --force
`
  ),
  java: onWorker(apt("default-jdk-headless maven gradle"))
}

export const builtinRecipe = (profile: Exclude<BuiltinProfile, "base">): Recipe => ({
  kind: "worker",
  dockerfile: "Dockerfile",
  files: { Dockerfile: BUILTIN_DOCKERFILES[profile] }
})

export const isBuiltin = (name: string): name is BuiltinProfile => (BUILTIN_PROFILES as ReadonlyArray<string>).includes(name)

export const customProfileDir = (home: string, name: string) => join(home, "profiles", name)

/** The custom profiles in HAL9000_HOME/profiles (directories with a Dockerfile). */
export const customProfiles = (home: string): ReadonlyArray<string> => {
  try {
    return readdirSync(join(home, "profiles"))
      .filter((n) => existsSync(join(customProfileDir(home, n), "Dockerfile")))
      .sort()
  } catch {
    return []
  }
}

/**
 * Why a custom Dockerfile is refused (pure): its first instruction (after comments, parser directives and ARGs)
 * must be FROM the worker image, as `FROM ${WORKER_IMAGE}` or the worker image's own name.
 */
export const dockerfileProblem = (text: string, workerImage: string): string | undefined => {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"))
  const first = lines.find((l) => !/^ARG\s/i.test(l))
  if (first === undefined) return "it has no FROM instruction"
  const m = /^FROM\s+(?:--platform=\S+\s+)?(\S+)/i.exec(first)
  if (m === null) return `its first instruction is '${first.split(/\s+/)[0]}', not FROM`
  const image = m[1]!
  const allowed = ["${WORKER_IMAGE}", "$WORKER_IMAGE", workerImage]
  return allowed.includes(image) ? undefined : `it starts FROM ${image}, not the worker image`
}

/** Every regular file under `dir` (the build context of a custom profile), relative path → content. */
const readContext = (dir: string, prefix = ""): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const rel = prefix === "" ? name : `${prefix}/${name}`
    const st = statSync(join(dir, rel))
    if (st.isDirectory()) Object.assign(out, readContext(dir, rel))
    else if (st.isFile()) out[rel] = readFileSync(join(dir, rel), "utf8")
  }
  return out
}

/** A custom profile's recipe, or why it cannot be built. */
export const customRecipe = (home: string, name: string, workerImage: string): Either.Either<Recipe, string> => {
  const dir = customProfileDir(home, name)
  let files: Record<string, string>
  try {
    files = readContext(dir)
  } catch (e) {
    return Either.left(`${dir} cannot be read (${e instanceof Error ? e.message : String(e)})`)
  }
  const dockerfile = files["Dockerfile"]
  if (dockerfile === undefined) return Either.left(`${dir} has no Dockerfile`)
  const problem = dockerfileProblem(dockerfile, workerImage)
  if (problem !== undefined) return Either.left(`${join(dir, "Dockerfile")} is refused: ${problem} (start it with: ARG WORKER_IMAGE then FROM \${WORKER_IMAGE})`)
  return Either.right({ kind: "worker", dockerfile: "Dockerfile", files })
}

export interface ProfileChoice {
  readonly profile: string
  /** `flag` for --profile, `detected` from a project file (named in `file`) or nothing found */
  readonly how: "flag" | "detected"
  readonly file?: string | undefined
}

/** The profile of a spawn (pure but for reading the project's and HAL9000_HOME's directories). */
export const chooseProfile = (requested: string | undefined, projectDir: string, home: string): Either.Either<ProfileChoice, string> => {
  if (requested === undefined) {
    const d = detectProfile(projectDir)
    return Either.right({ profile: d.profile, how: "detected", file: d.file })
  }
  if (!PROFILE_NAME.test(requested)) return Either.left(`'${requested}' is not a profile name (${PROFILE_NAME_FORM})`)
  if (isBuiltin(requested) || customProfiles(home).includes(requested)) return Either.right({ profile: requested, how: "flag" })
  const custom = customProfiles(home)
  return Either.left(
    `there is no profile '${requested}': the profiles are ${[...BUILTIN_PROFILES, ...custom].join(", ")} ` +
      `(a custom one is a Dockerfile in ${customProfileDir(home, requested)})`
  )
}
