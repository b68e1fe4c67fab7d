import Foundation
import TestSupport
import Testing
import Timeline

@Suite("Timeline transactions as types")
struct TransactionTypeTests {
    /// `body` inside a function that has a timeline and a session id.
    static func snippet(_ body: String) -> String {
        "import Foundation\nimport Timeline\nfunc f(_ timeline: TimelineStore, _ id: UUID) async throws {\n    \(body)\n}\n"
    }

    @Test("reads compile in both kinds of transaction, writes only in a write transaction")
    func writeInReadDoesNotCompile() throws {
        let allowed = """
            _ = try timeline.read { tx in try tx.turns(of: id) }
            _ = try await timeline.write { tx in try tx.turns(of: id) }
            _ = try await timeline.write { tx in try tx.append(NewTurn(role: .user, content: "hi"), to: id) }
            _ = try timeline.session(id)
            _ = try await timeline.updateSession(id) { $0.title = "renamed"; $0.archived = true }
            """
        #expect(try compilerDiagnostics(Self.snippet(allowed)) == nil)
        let misuses = [
            "_ = try timeline.read { tx in try tx.append(NewTurn(role: .user, content: \"hi\"), to: id) }",
            "_ = try timeline.read { tx in try tx.createSession(NewSession()) }",
            "_ = try timeline.read { tx in try tx.deleteSession(id) }",
        ]
        for misuse in misuses {
            let diagnostics = try #require(try compilerDiagnostics(Self.snippet(misuse)), "compiled: \(misuse)")
            #expect(diagnostics.contains("WriteAccess"), "\(misuse): \(diagnostics)")
        }
    }

    @Test("the fields the store maintains cannot be set by a caller")
    func maintainedFieldsAreReadOnly() throws {
        for field in ["turnCount = 9", "cost = 0", "parentID = nil", "lastActivity = Date()", "id = UUID()"] {
            let source = Self.snippet("_ = try await timeline.updateSession(id) { $0.\(field) }")
            let diagnostics = try #require(try compilerDiagnostics(source), "compiled: \(field)")
            #expect(diagnostics.contains("setter is inaccessible"), "\(field): \(diagnostics)")
        }
    }

    @Test("import Timeline brings the types its API uses and none of the lower layers' other names")
    func exportedNames() throws {
        let uses = """
            import Timeline
            func f(_ error: any Error) -> Int {
                let configuration = Environment.Configuration(durability: .noSync)
                let cursor: PageCursor? = nil, page: Page<Turn>? = nil, policy = MigrationPolicy.lazy, compression = ValueCompression.none
                _ = (configuration, cursor, page, policy, compression)
                if let error = error as? LMDBError, error.code == .noSpace { return 1 }
                if let error = error as? DocumentStoreError, error.code == .corrupted { return 2 }
                return 0
            }
            """
        #expect(try compilerDiagnostics(uses) == nil)
        for name in ["Database", "Index<Int>", "Transaction<ReadAccess>", "Store", "Entry", "Cursor<ReadAccess>", "KeyRange", "CBORValue"] {
            let diagnostics = try #require(try compilerDiagnostics("import Timeline\nlet x: \(name)? = nil\n"), "\(name) is visible")
            #expect(diagnostics.contains("cannot find type"), "\(name): \(diagnostics)")
        }
    }
}
