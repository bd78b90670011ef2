/**
 * When `daemon start` looks for an image (pure). Images are pulled only when missing, like `docker run`:
 * a locally built image is never replaced behind the user's back, and a start on an offline host with the images
 * present makes no registry call at all. SKIP_IMAGE_PULL never pulls (an absent parent image is an error, the worker
 * image is not checked); LAZY_IMAGE_PULL leaves the worker image to the first spawn.
 */
import type { Settings } from "../config/variables.ts"
import type { ImageKind } from "./recipes.ts"

export type PullPolicy = "if-missing" | "never" | "not-checked"

export const pullPolicy = (s: Settings, kind: ImageKind): PullPolicy => {
  if (kind === "parent") return s.skipImagePull ? "never" : "if-missing"
  return s.skipImagePull || s.lazyImagePull ? "not-checked" : "if-missing"
}
