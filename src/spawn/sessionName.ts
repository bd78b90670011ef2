/** Session names (pure): they become part of a container name and a file name, so the rules are strict. */
import { Either } from "effect"

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

/** `<project>-<6 random>`, from the project directory's base name made safe. */
export const defaultSessionName = (projectDir: string, random: string) => {
  const base =
    (projectDir.split("/").filter(Boolean).pop() ?? "session")
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 32) || "session"
  return `${base}-${random.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 6).padEnd(6, "0")}`
}
