// `import Timeline` is all an embedding service needs: the types its API hands out — `Page`,
// `PageCursor` (DocumentStore), `Transaction`, `Environment.Configuration` (LMDB) — come with it.
@_exported public import DocumentStore
@_exported public import LMDB
