// Start-up floor, measured by make bench: a compiled binary that only loads Effect and prints.
import { Effect } from "effect"
Effect.runFork(Effect.sync(() => console.log("ok")))
