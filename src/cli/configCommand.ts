import { Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { Settings } from "../config/Settings.ts"
import { jsonOption, parseSetFlags, printJson, setOption, table } from "./common.ts"

const shown = (raw: string, secret: boolean) => (secret ? (raw === "" ? "(unset)" : "(set, redacted)") : raw)

export const configCommand = Command.make("config", { json: jsonOption, set: setOption }, ({ json, set }) =>
  Effect.gen(function* () {
    const flags = yield* parseSetFlags(set)
    const { sources } = yield* Settings.load(flags)
    if (json) {
      return yield* printJson(
        Object.fromEntries(sources.map((s) => [s.name, { value: shown(s.raw, s.secret), source: s.source }]))
      )
    }
    yield* Console.log(
      table([["VARIABLE", "VALUE", "SOURCE"], ...sources.map((s) => [s.name, shown(s.raw, s.secret), s.source])])
    )
  })
).pipe(Command.withDescription("Print every effective setting and where it came from (default, kept by daemon start, env, flag)"))
