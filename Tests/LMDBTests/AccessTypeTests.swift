import TimelineLMDB
import TestSupport
import Testing

@Suite("Transaction access in the type")
struct AccessTypeTests {
    @Test("a write through a read transaction does not compile; the same write in a write transaction does")
    func writeInReadDoesNotCompile() throws {
        let write = """
            import TimelineLMDB
            func f(_ env: Environment, _ db: Database) throws {
                try env.write { txn in try db.put([1], for: [1], in: txn) }
                // A write transaction reads like a read one.
                try env.write { txn in _ = try db.get([1], in: txn) }
            }
            """
        #expect(try compilerDiagnostics(write) == nil)
        let misuses = [
            "try env.read { txn in try db.put([1], for: [1], in: txn) }",
            "try env.read { txn in _ = try db.delete([1], in: txn) }",
            "try env.read { txn in try txn.nested { _ in } }",
            "try env.read { txn in _ = try txn.openDatabase(\"x\") }",
            "try env.read { txn in try db.withCursor(in: txn) { cursor in try cursor.delete() } }",
        ]
        for misuse in misuses {
            let source = "import TimelineLMDB\nfunc f(_ env: Environment, _ db: Database) throws {\n    \(misuse)\n}\n"
            let diagnostics = try #require(try compilerDiagnostics(source), "compiled: \(misuse)")
            #expect(diagnostics.contains("WriteAccess"), "\(misuse): \(diagnostics)")
        }
    }

    @Test("a range walk cannot escape its cursor's closure; forEachEntry visits every entry of a range")
    func entriesStayInside() throws {
        let escape = """
            import TimelineLMDB
            func f(_ env: Environment, _ db: Database) throws {
                try env.read { txn in
                    let walk: Cursor<ReadAccess>.Entries = try db.withCursor(in: txn) { cursor in return cursor.entries() }
                    _ = walk
                }
            }
            """
        let diagnostics = try #require(try compilerDiagnostics(escape), "an Entries escaped its cursor")
        #expect(diagnostics.contains("conform to 'Copyable'"), "\(diagnostics)")
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/store")
            let db = try env.openDatabase("items")
            try env.write { txn in for byte in UInt8(0)..<10 { try db.put([byte], for: [byte], in: txn) } }
            var seen: [UInt8] = []
            try env.read { txn in try db.forEachEntry(.halfOpen([2], [5]), reverse: true, in: txn) { seen.append($0.key[0]) } }
            #expect(seen == [4, 3, 2])
        }
    }
}
