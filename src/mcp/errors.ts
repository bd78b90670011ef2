/**
 * What a tool call can fail with. It is reported to the MCP client as a tool error (isError, the message as text),
 * never as a CLI exit: the server stays up for the next call. So it lives here, not in domain/errors.ts.
 */
import { Data } from "effect"

export class ToolFailure extends Data.TaggedError("ToolFailure")<{
  readonly message: string
  /** ChromaDB's HTTP status when it refused the call (404: the collection is gone) */
  readonly status?: number
}> {}

export const failure = (message: string, status?: number) => new ToolFailure(status === undefined ? { message } : { message, status })
