/**
 * Whether output may keep its colour, and taking colour out (pure, no imports: the thin client uses it before anything
 * loads, and cli/colourPolicy.ts for a command run in its own process).
 */
const SGR = /\u001b\[[0-9;]*m/g

/** Whether a stream may carry colour: a terminal, with NO_COLOR unset or empty (no-color.org) and TERM not dumb. */
export const colourWanted = (env: Readonly<Record<string, string | undefined>>, isTerminal: boolean) =>
  isTerminal && (env.NO_COLOR ?? "") === "" && env.TERM !== "dumb"

/** Whether `text` has any colour to take out. */
export const hasColour = (text: string) => text.includes("\u001b[")

export const stripColourText = (text: string) => text.replace(SGR, "")

export const stripColour = (args: ReadonlyArray<unknown>) => args.map((a) => (typeof a === "string" ? stripColourText(a) : a))
