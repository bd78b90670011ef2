/** Session names (pure): they become part of a container name and a file name, so the rules are strict. */
import { Either } from "effect"
import { createHash } from "node:crypto"

export const SESSION_NAME_FORM =
  "1 to 40 lowercase letters, digits and dashes, starting and ending with a letter or digit (e.g. my-session)"

export const validateSessionName = (name: string): Either.Either<string, string> => {
  const why =
    name === ""
      ? "it is empty"
      : name.includes("/")
        ? "it contains '/'"
        : name.includes("..")
          ? "it contains '..'"
          : /\s/.test(name)
            ? "it contains white space"
            : /[A-Z]/.test(name)
              ? "it contains uppercase letters"
              : name.length > 40
                ? `it is ${name.length} characters long`
                : !/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(name)
                  ? "it has characters other than a-z, 0-9 and '-', or starts or ends with '-'"
                  : undefined
  return why === undefined ? Either.right(name) : Either.left(why)
}

/** The project directory's base name made safe for a session name (at most 26 characters). */
const safeBase = (projectDir: string) =>
  (projectDir.split("/").filter(Boolean).pop() ?? "session")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 26)
    .replace(/-+$/, "") || "session"

/**
 * The one session of a project directory: `<base>-<8 hex of sha256(real path)>`, so running claudy again in the same
 * directory finds its session, and two directories of the same base name (~/a/app, ~/b/app) do not share one.
 */
export const projectSessionName = (realProjectDir: string) =>
  `${safeBase(realProjectDir)}-${createHash("sha256").update(realProjectDir).digest("hex").slice(0, 8)}`

/** Another session of the same project (`--new`): the project's name plus 4 random characters; at most 40. */
export const extraSessionName = (realProjectDir: string, random: string) =>
  `${projectSessionName(realProjectDir)}-${random.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 4).padEnd(4, "0")}`
