/**
 * The platform's HTTP server, given by the entry (Bun's in the binary, Node's under Node/Deno), so `daemon run` is
 * the same code on every runtime.
 */
import type { HttpServer } from "@effect/platform"
import type { ServeError } from "@effect/platform/HttpServerError"
import { Context, type Layer } from "effect"

export class HttpServe extends Context.Tag("claudy/HttpServe")<
  HttpServe,
  (address: { readonly host: string; readonly port: number }) => Layer.Layer<HttpServer.HttpServer, ServeError>
>() {}
