/**
 * chroma-mcp 0.2.x's twelve tools, with its names, parameters and defaults (read from chroma_mcp/server.py 0.2.5), so
 * prompts and habits written for it carry over. Arguments are decoded with Schema (unknown parameters refused: a typo
 * is not silently ignored); the JSON Schema clients see in tools/list is generated from the same Schema.
 * The differences, on purpose: embeddings come from HAL9000_EMBEDDING (one per server, recorded in each collection),
 * peek does not return the vectors (numbers an agent cannot read), and duplicate ids are checked with one lookup of
 * the new ids instead of reading every id of the collection.
 */
import { Effect, Either, JSONSchema, ParseResult, Schema } from "effect"
import type { ChromaClient, Collection } from "./chromaHttp.ts"
import type { Embed } from "./embedder.ts"
import { failure, type ToolFailure } from "./errors.ts"

/** The collection metadata key that records the embedding its vectors were made with. */
export const EMBEDDING_KEY = "claudy_embedding"

export interface ToolContext {
  readonly chroma: ChromaClient
  readonly embed: Embed
  /** embeddingId of the configured embedding */
  readonly embedding: string
  /** its kind: what `embedding_function_name` may name besides `default` */
  readonly embeddingKind: string
  /** the setting as the user wrote it, for messages */
  readonly embeddingSetting: string
  /** collections looked up by this server, by name (see withCollection) */
  readonly collections: Map<string, { readonly collection: Collection; readonly at: number }>
}

interface Tool {
  readonly name: string
  readonly description: string
  readonly inputSchema: Record<string, unknown>
  readonly run: (args: unknown, ctx: ToolContext) => Effect.Effect<unknown, ToolFailure>
}

/** The JSON Schema of a tool's arguments, as MCP wants it: an object schema (without the draft's $schema line). */
const inputSchemaOf = (fields: Schema.Schema.Any): Record<string, unknown> => {
  const { $schema: _, ...rest } = JSONSchema.make(fields) as unknown as Record<string, unknown>
  return rest
}

/** One line per wrong argument, named by its path: what a model can fix in its next call. */
const argumentErrors = (e: ParseResult.ParseError) =>
  ParseResult.ArrayFormatter.formatErrorSync(e)
    .map((i) => `- ${i.path.length > 0 ? i.path.join(".") : "(arguments)"}: ${i.message}`)
    .join("\n")

const tool = <A, I>(
  name: string,
  description: string,
  fields: Schema.Schema<A, I>,
  run: (a: A, ctx: ToolContext) => Effect.Effect<unknown, ToolFailure>
): Tool => {
  const decode = Schema.decodeUnknownEither(fields, { onExcessProperty: "error", errors: "all" })
  return {
    name,
    description,
    inputSchema: inputSchemaOf(fields),
    run: (args, ctx) =>
      Either.match(decode(args ?? {}), {
        onLeft: (e) => Effect.fail(failure(`Invalid arguments for ${name}:\n${argumentErrors(e)}`)),
        onRight: (a) => run(a, ctx)
      })
  }
}

// ---- parameters -------------------------------------------------------------------------------------------------

const d = <S extends Schema.Schema.Any>(s: S, description: string) => s.annotations({ description }) as S
const CollectionName = d(Schema.NonEmptyString, "Name of the collection")
const Dict = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const Texts = (what: string) => d(Schema.Array(Schema.String).pipe(Schema.minItems(1)), what)
const Ids = (what: string) => d(Schema.Array(Schema.NonEmptyString).pipe(Schema.minItems(1)), what)
const Count = Schema.Int.pipe(Schema.nonNegative())
const optionalNull = <S extends Schema.Schema.Any>(s: S, description: string) => Schema.optional(Schema.NullOr(d(s, description)))
const Include = Schema.Array(Schema.Literal("documents", "embeddings", "metadatas", "distances", "uris"))
const WHERE =
  'Metadata filter with Chroma\'s operators, e.g. {"field": "value"}, {"field": {"$gt": 5}}, {"$and": [...]}, {"$or": [...]}'
const WHERE_DOCUMENT = 'Document content filter, e.g. {"$contains": "text"}'

// ---- helpers ----------------------------------------------------------------------------------------------------

const text = (s: string) => s
/** Chroma rejects an empty filter; chroma-mcp's callers pass {} for "none". */
const filter = (f: Record<string, unknown> | null | undefined) => (f && Object.keys(f).length > 0 ? f : undefined)
const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null))

/**
 * Vectors of one embedding are comparable only with vectors of the same: a collection made with another embedding
 * would answer with nonsense, so it is refused. One without a record is adopted while it is empty.
 */
const ensureEmbedding = (c: Collection, ctx: ToolContext) => {
  const recorded = c.metadata?.[EMBEDDING_KEY]
  if (recorded === ctx.embedding) return Effect.void
  if (typeof recorded === "string") {
    return Effect.fail(
      failure(
        `Collection '${c.name}' was made with the embedding '${recorded}', but this server embeds with '${ctx.embedding}' ` +
          `(HAL9000_EMBEDDING=${ctx.embeddingSetting}). Their vectors are not comparable, so the results would be wrong. ` +
          `Run this server with the embedding the collection was made with, or copy its documents into a new collection.`
      )
    )
  }
  return ctx.chroma.count(c.id).pipe(
    Effect.flatMap((n) =>
      n === 0
        ? ctx.chroma
            .modify(c.id, { new_metadata: { ...(c.metadata ?? {}), [EMBEDDING_KEY]: ctx.embedding } })
            .pipe(Effect.zipRight(forget(ctx, c.name)))
        : Effect.fail(
            failure(
              `Collection '${c.name}' holds ${n} records but no '${EMBEDDING_KEY}' in its metadata (it was not made with ` +
                `claudy's chroma tools), so the model of its vectors is unknown and a query could answer with nonsense. ` +
                `Create a new collection with chroma_create_collection and add the documents there.`
            )
          )
    )
  )
}

const existing = (name: string, ctx: ToolContext) =>
  ctx.chroma.get(name).pipe(
    Effect.mapError((e) => (e.status === 404 ? failure(`Collection '${name}' does not exist. ${e.message}`, 404) : e))
  )

/**
 * How long a looked-up collection (its id and metadata) is used without asking ChromaDB again. An agent's queries
 * come in bursts: the lookup was a third of a query's time (make bench). A collection deleted or recreated meanwhile
 * answers 404 by id, and the call is retried once with a fresh lookup; a rename by another client is seen after
 * this long.
 */
const COLLECTION_TTL_MS = 5_000

/** Run `use` on the collection named `name`: the one looked up in the last COLLECTION_TTL_MS, or a fresh lookup. */
const withCollection = <A>(
  name: string,
  ctx: ToolContext,
  use: (c: Collection) => Effect.Effect<A, ToolFailure>,
  lookup: Effect.Effect<Collection, ToolFailure> = existing(name, ctx)
): Effect.Effect<A, ToolFailure> => {
  const fresh = lookup.pipe(
    Effect.tap((c) => Effect.sync(() => ctx.collections.set(name, { collection: c, at: Date.now() }))),
    Effect.flatMap(use)
  )
  const known = ctx.collections.get(name)
  if (known === undefined || Date.now() - known.at > COLLECTION_TTL_MS) return fresh
  return use(known.collection).pipe(
    Effect.catchIf(
      (e) => e.status === 404,
      () => Effect.suspend(() => (ctx.collections.delete(name), fresh))
    )
  )
}
const forget = (ctx: ToolContext, ...names: ReadonlyArray<string | null | undefined>) =>
  Effect.sync(() => names.forEach((n) => n && ctx.collections.delete(n)))

const peek = (c: Collection, limit: number, ctx: ToolContext) =>
  ctx.chroma.getRecords(c.id, { limit, include: ["documents", "metadatas"] })

const KNOWN_ELSEWHERE = ["cohere", "openai", "jina", "voyageai", "ollama", "roboflow"]

// ---- the tools --------------------------------------------------------------------------------------------------

export const TOOLS: ReadonlyArray<Tool> = [
  tool(
    "chroma_list_collections",
    'List all collection names in the Chroma database with pagination support. Returns ["__NO_COLLECTIONS_FOUND__"] if the database is empty.',
    Schema.Struct({
      limit: optionalNull(Count, "Optional maximum number of collections to return"),
      offset: optionalNull(Count, "Optional number of collections to skip before returning results")
    }),
    (a, ctx) =>
      ctx.chroma
        .list(a.limit ?? undefined, a.offset ?? undefined)
        .pipe(Effect.map((cs) => (cs.length === 0 ? ["__NO_COLLECTIONS_FOUND__"] : cs.map((c) => c.name))))
  ),
  tool(
    "chroma_create_collection",
    "Create a new Chroma collection. Its documents are embedded with the server's embedding (HAL9000_EMBEDDING), which the collection records.",
    Schema.Struct({
      collection_name: CollectionName,
      embedding_function_name: Schema.optionalWith(
        d(Schema.String, "'default' (the server's configured embedding), or the configured kind: hash, ollama or openai"),
        { default: () => "default" }
      ),
      metadata: optionalNull(Dict, "Optional metadata dict to add to the collection")
    }),
    (a, ctx) => {
      if (a.embedding_function_name !== "default" && a.embedding_function_name !== ctx.embeddingKind) {
        const why = KNOWN_ELSEWHERE.includes(a.embedding_function_name) ? "is not available here" : "is unknown"
        return Effect.fail(
          failure(
            `Embedding function '${a.embedding_function_name}' ${why}: this server embeds with '${ctx.embedding}' ` +
              `(HAL9000_EMBEDDING=${ctx.embeddingSetting}). Leave embedding_function_name out, or set HAL9000_EMBEDDING.`
          )
        )
      }
      return ctx.chroma
        .create(a.collection_name, { ...(a.metadata ?? {}), [EMBEDDING_KEY]: ctx.embedding }, false)
        .pipe(Effect.as(text(`Successfully created collection ${a.collection_name} with embedding ${ctx.embedding}`)))
    }
  ),
  tool(
    "chroma_peek_collection",
    "Peek at documents in a Chroma collection (ids, documents and metadatas).",
    Schema.Struct({
      collection_name: CollectionName,
      limit: Schema.optionalWith(d(Count, "Number of documents to peek at"), { default: () => 5 })
    }),
    (a, ctx) => withCollection(a.collection_name, ctx, (c) => peek(c, a.limit, ctx))
  ),
  tool(
    "chroma_get_collection_info",
    "Get information about a Chroma collection: its count, metadata (with the embedding it was made with) and a few sample documents.",
    Schema.Struct({ collection_name: CollectionName }),
    (a, ctx) =>
      withCollection(a.collection_name, ctx, (c) =>
        Effect.all({ count: ctx.chroma.count(c.id), sample: peek(c, 3, ctx) }, { concurrency: 2 }).pipe(
          Effect.map(({ count, sample }) => ({ name: c.name, id: c.id, metadata: c.metadata, count, sample_documents: sample }))
        )
      )
  ),
  tool(
    "chroma_get_collection_count",
    "Get the number of documents in a Chroma collection.",
    Schema.Struct({ collection_name: CollectionName }),
    (a, ctx) => withCollection(a.collection_name, ctx, (c) => ctx.chroma.count(c.id))
  ),
  tool(
    "chroma_modify_collection",
    "Modify a Chroma collection's name or metadata.",
    Schema.Struct({
      collection_name: CollectionName,
      new_name: optionalNull(Schema.NonEmptyString, "Optional new name for the collection"),
      new_metadata: optionalNull(Dict, "Optional new metadata for the collection (replaces the old; the recorded embedding is kept)")
    }),
    (a, ctx) => {
      if (!a.new_name && !a.new_metadata) return Effect.fail(failure("Nothing to modify: give new_name, new_metadata or both."))
      return existing(a.collection_name, ctx).pipe(
        Effect.flatMap((c) => {
          const recorded = c.metadata?.[EMBEDDING_KEY]
          const metadata = a.new_metadata ? { ...a.new_metadata, ...(recorded === undefined ? {} : { [EMBEDDING_KEY]: recorded }) } : undefined
          return ctx.chroma.modify(c.id, defined({ new_name: a.new_name, new_metadata: metadata }))
        }),
        Effect.zipRight(forget(ctx, a.collection_name, a.new_name)),
        Effect.as(
          text(
            `Successfully modified collection ${a.collection_name}: updated ${[a.new_name ? "name" : "", a.new_metadata ? "metadata" : ""].filter(Boolean).join(" and ")}`
          )
        )
      )
    }
  ),
  tool(
    "chroma_delete_collection",
    "Delete a Chroma collection.",
    Schema.Struct({ collection_name: CollectionName }),
    (a, ctx) =>
      ctx.chroma.remove(a.collection_name).pipe(
        Effect.zipRight(forget(ctx, a.collection_name)),
        Effect.as(text(`Successfully deleted collection ${a.collection_name}`))
      )
  ),
  tool(
    "chroma_add_documents",
    "Add documents to a Chroma collection (created if it does not exist). Ids are required and must be new: use chroma_update_documents to change existing ones.",
    Schema.Struct({
      collection_name: CollectionName,
      documents: Texts("List of text documents to add"),
      ids: Ids("List of IDs for the documents (required)"),
      metadatas: optionalNull(Schema.Array(Dict), "Optional list of metadata dictionaries for each document")
    }),
    (a, ctx) => {
      if (a.ids.length !== a.documents.length) {
        return Effect.fail(failure(`Number of ids (${a.ids.length}) must match number of documents (${a.documents.length}).`))
      }
      if (a.metadatas && a.metadatas.length !== a.ids.length) {
        return Effect.fail(failure(`Number of metadatas (${a.metadatas.length}) must match number of ids (${a.ids.length}).`))
      }
      const getOrCreate = ctx.chroma.create(a.collection_name, { [EMBEDDING_KEY]: ctx.embedding }, true)
      return withCollection(a.collection_name, ctx, (c) => Effect.gen(function* () {
        yield* ensureEmbedding(c, ctx)
        const found = yield* ctx.chroma.getRecords(c.id, { ids: a.ids, include: [] })
        const duplicates = (found.ids as Array<string> | undefined) ?? []
        if (duplicates.length > 0) {
          return yield* Effect.fail(
            failure(
              `The following IDs already exist in collection '${a.collection_name}': ${JSON.stringify(duplicates)}. ` +
                "Use 'chroma_update_documents' to update existing documents."
            )
          )
        }
        const embeddings = yield* ctx.embed(a.documents)
        yield* ctx.chroma.add(c.id, defined({ ids: a.ids, documents: a.documents, embeddings, metadatas: a.metadatas }))
        return text(`Successfully added ${a.documents.length} documents to collection ${a.collection_name}`)
      }), getOrCreate)
    }
  ),
  tool(
    "chroma_query_documents",
    "Query documents from a Chroma collection by similarity to query texts, with optional metadata and document filters.",
    Schema.Struct({
      collection_name: CollectionName,
      query_texts: Texts("List of query texts to search for"),
      n_results: Schema.optionalWith(d(Schema.Int.pipe(Schema.positive()), "Number of results to return per query"), { default: () => 5 }),
      where: optionalNull(Dict, WHERE),
      where_document: optionalNull(Dict, WHERE_DOCUMENT),
      include: Schema.optionalWith(d(Include, "What to include in the response"), {
        default: () => ["documents", "metadatas", "distances"] as const
      })
    }),
    (a, ctx) =>
      withCollection(a.collection_name, ctx, (c) =>
        Effect.gen(function* () {
          yield* ensureEmbedding(c, ctx)
          const query_embeddings = yield* ctx.embed(a.query_texts)
          return yield* ctx.chroma.query(
            c.id,
            defined({ query_embeddings, n_results: a.n_results, where: filter(a.where), where_document: filter(a.where_document), include: a.include })
          )
        })
      )
  ),
  tool(
    "chroma_get_documents",
    "Get documents from a Chroma collection by ids and/or filters, with pagination.",
    Schema.Struct({
      collection_name: CollectionName,
      ids: optionalNull(Schema.Array(Schema.String), "Optional list of document IDs to retrieve"),
      where: optionalNull(Dict, WHERE),
      where_document: optionalNull(Dict, WHERE_DOCUMENT),
      include: Schema.optionalWith(d(Include, "What to include in the response"), { default: () => ["documents", "metadatas"] as const }),
      limit: optionalNull(Count, "Optional maximum number of documents to return"),
      offset: optionalNull(Count, "Optional number of documents to skip before returning results")
    }),
    (a, ctx) =>
      withCollection(a.collection_name, ctx, (c) =>
        ctx.chroma.getRecords(
          c.id,
          defined({
            ids: a.ids,
            where: filter(a.where),
            where_document: filter(a.where_document),
            include: a.include,
            limit: a.limit,
            offset: a.offset
          })
        )
      )
  ),
  tool(
    "chroma_update_documents",
    "Update documents in a Chroma collection. New documents are embedded with the collection's embedding; ids that do not exist are ignored by ChromaDB.",
    Schema.Struct({
      collection_name: CollectionName,
      ids: Ids("List of document IDs to update (required)"),
      embeddings: optionalNull(Schema.Array(Schema.Array(Schema.Number)), "Optional list of new embeddings, one per id"),
      metadatas: optionalNull(Schema.Array(Dict), "Optional list of new metadata dictionaries, one per id"),
      documents: optionalNull(Schema.Array(Schema.String), "Optional list of new text documents, one per id")
    }),
    (a, ctx) => {
      if (!a.embeddings && !a.metadatas && !a.documents) {
        return Effect.fail(failure("At least one of 'embeddings', 'metadatas', or 'documents' must be provided for update."))
      }
      for (const [what, list] of [["embeddings", a.embeddings], ["metadatas", a.metadatas], ["documents", a.documents]] as const) {
        if (list && list.length !== a.ids.length) return Effect.fail(failure(`Length of '${what}' list must match length of 'ids' list.`))
      }
      return withCollection(a.collection_name, ctx, (c) => Effect.gen(function* () {
        let embeddings = a.embeddings ?? undefined
        if (a.documents && !embeddings) {
          yield* ensureEmbedding(c, ctx)
          embeddings = yield* ctx.embed(a.documents)
        }
        yield* ctx.chroma.update(c.id, defined({ ids: a.ids, embeddings, metadatas: a.metadatas, documents: a.documents }))
        return text(
          `Successfully processed update request for ${a.ids.length} documents in collection '${a.collection_name}'. ` +
            "Note: Non-existent IDs are ignored by ChromaDB."
        )
      }))
    }
  ),
  tool(
    "chroma_delete_documents",
    "Delete documents from a Chroma collection by id.",
    Schema.Struct({ collection_name: CollectionName, ids: Ids("List of document IDs to delete") }),
    (a, ctx) =>
      withCollection(a.collection_name, ctx, (c) => ctx.chroma.deleteRecords(c.id, { ids: a.ids })).pipe(
        Effect.as(
          text(
            `Successfully deleted ${a.ids.length} documents from collection '${a.collection_name}'. ` +
              "Note: Non-existent IDs are ignored by ChromaDB."
          )
        )
      )
  )
]

export interface ToolResult {
  readonly content: Array<{ readonly type: "text"; readonly text: string }>
  readonly isError?: boolean
  readonly [key: string]: unknown
}

const errorResult = (message: string): ToolResult => ({ content: [{ type: "text", text: message }], isError: true })
const asText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v))

/**
 * One tools/call: every failure, an unknown tool, bad arguments and even a defect becomes a tool error the model
 * can read and act on. The server never dies of a call.
 */
export const callTool = (name: string, args: unknown, ctx: Effect.Effect<ToolContext, ToolFailure>): Promise<ToolResult> => {
  const t = TOOLS.find((x) => x.name === name)
  const run = t
    ? Effect.flatMap(ctx, (c) => t.run(args, c))
    : Effect.fail(failure(`Unknown tool '${name}'. The tools are: ${TOOLS.map((x) => x.name).join(", ")}`))
  return Effect.runPromise(
    run.pipe(
      Effect.map((v): ToolResult => ({ content: [{ type: "text", text: asText(v) }] })),
      Effect.catchAll((e) => Effect.succeed(errorResult(e.message))),
      Effect.catchAllDefect((d) => Effect.succeed(errorResult(`Internal error in claudy's chroma server (please report it): ${String(d)}`)))
    )
  )
}

export const toolList = () => TOOLS.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema }))
