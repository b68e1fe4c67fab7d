// `import Timeline` brings exactly the lower-level types the timeline's API hands out or throws,
// and nothing else: `Database`, `Index`, `Entry`, `Transaction`, `Cursor`, `Store`… stay out of an
// embedding service's namespace (they collide with GRDB's and users' own names). Code that uses
// the record or LMDB layers directly imports `TimelineDocumentStore` or `TimelineLMDB` itself.
@_exported public import class TimelineLMDB.Environment
@_exported public import struct TimelineLMDB.LMDBError
@_exported public import protocol TimelineLMDB.TransactionAccess
@_exported public import enum TimelineLMDB.ReadAccess
@_exported public import enum TimelineLMDB.WriteAccess
@_exported public import struct TimelineDocumentStore.Page
@_exported public import struct TimelineDocumentStore.PageCursor
@_exported public import struct TimelineDocumentStore.DocumentStoreError
@_exported public import enum TimelineDocumentStore.MigrationPolicy
@_exported public import struct TimelineDocumentStore.ValueCompression

//
// The `~=` operators behind `catch LMDBError.Code.noSpace` and `catch DocumentStoreError.Code.corrupted`
// cannot be re-exported one by one (Swift imports no single operator): a file that names codes in
// `catch` clauses imports `TimelineLMDB` / `TimelineDocumentStore` too; `catch let e as LMDBError where e.code == …`
// works with `import Timeline` alone.
