// `import Timeline` brings exactly the lower-level types the timeline's API hands out or throws,
// and nothing else: `Database`, `Index`, `Entry`, `Transaction`, `Cursor`, `Store`… stay out of an
// embedding service's namespace (they collide with GRDB's and users' own names). Code that uses
// the record or LMDB layers directly imports `DocumentStore` or `LMDB` itself.
@_exported public import class LMDB.Environment
@_exported public import struct LMDB.LMDBError
@_exported public import protocol LMDB.TransactionAccess
@_exported public import enum LMDB.ReadAccess
@_exported public import enum LMDB.WriteAccess
@_exported public import struct DocumentStore.Page
@_exported public import struct DocumentStore.PageCursor
@_exported public import struct DocumentStore.DocumentStoreError
@_exported public import enum DocumentStore.MigrationPolicy

//
// The `~=` operators behind `catch LMDBError.Code.noSpace` and `catch DocumentStoreError.Code.corrupted`
// cannot be re-exported one by one (Swift imports no single operator): a file that names codes in
// `catch` clauses imports `LMDB` / `DocumentStore` too; `catch let e as LMDBError where e.code == …`
// works with `import Timeline` alone.
