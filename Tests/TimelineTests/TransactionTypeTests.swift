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
}
