import ArgumentParser
import LMDB

/// `kvtool demo`: writes a small conversation timeline straight through the LMDB layer and reads
/// it back, to show a store being built and read.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build an example store of sessions and turns, then read it back.",
        discussion: """
            Writes SESSIONS sessions of up to TURNS turns each into a new store at PATH (keys:
            16-byte session id followed by the turn sequence, big-endian), then reads one session
            back with a range scan and prints what it holds.

            Example:
              kvtool demo /tmp/demo.timeline --sessions 20 --turns-per-session 50
            """
    )

    @Argument(help: "The store directory to create; it must not already hold a store.")
    var path: String

    @Option(help: "How many sessions to write.")
    var sessions = 40

    @Option(help: "The most turns a session gets (each gets between half and all of them).")
    var turnsPerSession = 150

    @Option(help: "Seed for the generated content, so runs are repeatable.")
    var seed: UInt64 = 42

    func validate() throws {
        guard sessions > 0, sessions <= 1_000_000 else { throw ValidationError("--sessions must be between 1 and 1000000") }
        guard turnsPerSession > 0, turnsPerSession <= 1_000_000 else {
            throw ValidationError("--turns-per-session must be between 1 and 1000000")
        }
        if StoreFiles.holdsStore(path) {
            throw ValidationError("\(path) already holds a store; choose a new path or remove it first")
        }
    }

    func run() throws {
        let env = try Environment(path: path, configuration: .init(mapSize: 1 << 20))
        let sessionsDB = try env.openDatabase("sessions")
        let turnsDB = try env.openDatabase("turns")
        var random = SplitMix64(seed: seed)
        let roles = ["user", "assistant", "tool"]
        let topics = ["the billing service", "a flaky test", "the release notes", "an LMDB map resize",
                      "the onboarding flow", "a memory leak", "the search ranking", "a migration plan"]

        var sessionIDs: [[UInt8]] = []
        var turnCount = 0
        for index in 0..<sessions {
            let id = (0..<16).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            sessionIDs.append(id)
            let topic = topics[Int(random.next() % UInt64(topics.count))]
            let turns = turnsPerSession / 2 + Int(random.next() % UInt64(turnsPerSession - turnsPerSession / 2 + 1))
            // One transaction per session: the session record and all its turns land together.
            try env.write { txn in
                try sessionsDB.put(Array("session \(index): \(topic)".utf8), for: id, in: txn)
                for sequence in 0..<turns {
                    let role = roles[sequence % 2 == 0 ? 0 : (random.next() % 4 == 0 ? 2 : 1)]
                    let text = "\(role) turn \(sequence) about \(topic): " + String(repeating: "lorem ipsum ", count: 1 + Int(random.next() % 20))
                    try turnsDB.put(Array(text.utf8), for: id + bigEndian(UInt64(sequence)), in: txn)
                }
            }
            turnCount += turns
        }
        print("wrote \(sessions) sessions and \(turnCount) turns to \(path)")

        try env.read { txn in
            let first = sessionIDs[0]
            let title = try sessionsDB.get(first, in: txn).map { String(decoding: $0, as: UTF8.self) } ?? "?"
            print("\n\(title) — first turns, read back with a prefix scan:")
            try turnsDB.withCursor(in: txn) { cursor in
                var entries = cursor.entries(in: .prefix(first))
                var shown = 0
                while let entry = try entries.next(), shown < 5 {
                    let sequence = entry.key.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    let text = String(decoding: entry.value, as: UTF8.self)
                    print("  #\(sequence)  \(text.prefix(72))")
                    shown += 1
                }
            }
            print("\nsessions: \(try sessionsDB.count(in: txn)), turns: \(try turnsDB.count(in: txn))")
        }
        let grown = env.mapSize > 1 << 20 ? ", grown from 1024 KiB as the data needed" : ""
        print("map size \(env.mapSize / 1024) KiB\(grown)")
    }
}

/// The 8 bytes of `value`, most significant first: keys that sort like the numbers.
func bigEndian(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
}

/// A small, fast, seedable generator (SplitMix64), so demo content is repeatable.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
