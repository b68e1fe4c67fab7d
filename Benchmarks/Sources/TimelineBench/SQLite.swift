import CSQLite
import Foundation

/// A thin wrapper over the SQLite C API for the tuned baseline: one connection, statements
/// prepared once and reused.
final class SQLiteConnection {
    let handle: OpaquePointer
    let path: String

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(path: String) throws {
        self.path = path
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw Failure(description: "open \(path): \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, 10_000)
    }

    /// Commits made through this connection (counted by a commit hook).
    private(set) var commits = 0

    deinit { sqlite3_close_v2(handle) }

    /// Starts counting this connection's commits in ``commits``.
    func countCommits() {
        sqlite3_commit_hook(handle, { context in
            guard let context else { return 0 }
            Unmanaged<SQLiteConnection>.fromOpaque(context).takeUnretainedValue().commits += 1
            return 0
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &error) != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "?"
            sqlite3_free(error)
            throw Failure(description: "\(message) in: \(sql.prefix(120))")
        }
    }

    /// The first column of the first row of `sql`, as text (for PRAGMA read-backs).
    func text(_ sql: String) throws -> String {
        let statement = try prepare(sql)
        guard try statement.step() else { return "" }
        return statement.text(0)
    }

    func prepare(_ sql: String) throws -> Statement { try Statement(self, sql) }

    func check(_ rc: Int32, _ what: @autoclosure () -> String) throws {
        if rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW {
            throw Failure(description: "\(what()): \(String(cString: sqlite3_errmsg(handle)))")
        }
    }

    /// A prepared statement: bind by position (from 1), step, read columns by position (from 0).
    final class Statement {
        let handle: OpaquePointer
        let connection: SQLiteConnection

        init(_ connection: SQLiteConnection, _ sql: String) throws {
            self.connection = connection
            var statement: OpaquePointer?
            try connection.check(sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil), "prepare \(sql.prefix(80))")
            guard let statement else { throw Failure(description: "empty statement") }
            handle = statement
        }

        deinit { sqlite3_finalize(handle) }

        /// Resets the statement and binds `values` (Int, Double, String, Data/[UInt8], UUID, nil).
        @discardableResult
        func bind(_ values: Any?...) throws -> Statement {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            for (offset, value) in values.enumerated() {
                let index = Int32(offset + 1)
                let rc: Int32
                switch value {
                case let number as Int: rc = sqlite3_bind_int64(handle, index, Int64(number))
                case let number as Double: rc = sqlite3_bind_double(handle, index, number)
                case let text as String: rc = sqlite3_bind_text(handle, index, text, -1, SQLITE_TRANSIENT)
                case let uuid as UUID:
                    rc = withUnsafeBytes(of: uuid.uuid) { sqlite3_bind_blob(handle, index, $0.baseAddress, 16, SQLITE_TRANSIENT) }
                case let bytes as [UInt8]: rc = bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT) }
                default: rc = sqlite3_bind_null(handle, index)
                }
                try connection.check(rc, "bind parameter \(index)")
            }
            return self
        }

        /// One row: true while there are rows.
        func step() throws -> Bool {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_ROW { return true }
            try connection.check(rc, "step")
            return false
        }

        /// Runs a statement that returns no rows.
        func run() throws { while try step() {} }

        func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }
        func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
        func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
        func text(_ column: Int32) -> String {
            guard let bytes = sqlite3_column_text(handle, column) else { return "" }
            return String(cString: bytes)
        }
        /// Calls `body` with a text column's UTF-8 bytes in place, without building a `String`.
        func withText(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
            guard let bytes = sqlite3_column_text(handle, column) else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
            body(UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, column))))
        }
        /// The byte length of a text or blob column, without building a value.
        func length(_ column: Int32) -> Int { Int(sqlite3_column_bytes(handle, column)) }
        func uuid(_ column: Int32) -> UUID? {
            guard sqlite3_column_bytes(handle, column) == 16, let bytes = sqlite3_column_blob(handle, column) else { return nil }
            var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)   // not UUID(): that reads the random source
            withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: 16)) }
            return UUID(uuid: value)
        }
    }
}

/// SQLite's "copy the string now" destructor.
let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
