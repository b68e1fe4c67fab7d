#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
internal import TimelineDocumentStore
public import TimelineCBOR

/// One committed change to the timeline, as the change log keeps it: what happened, to which
/// records, at which position. Stored in the `changes` database under its position
/// (8 bytes, big-endian), written in the same transaction as the change itself (`Docs/changes.md`).
///
/// An entry carries the keys of what changed, not the records: a consumer reads the records it
/// needs from the same snapshot it read the entries from (``TimelineTransaction/changes(after:limit:)``),
/// so an entry is small and the log never holds a second copy of the history.
public struct Change: Codable, Sendable, Hashable {
    /// What happened.
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        /// A session was created (``NewSession``, or a fork's or a restore's new session: see ``parent``).
        case sessionCreated
        /// A session's caller-owned fields changed (``TimelineTransaction/updateSession(_:_:)``).
        case sessionUpdated
        /// A session was deleted, with its turns, checkpoints and crystals.
        case sessionDeleted
        /// A fork was handed the turns ``sequences`` it had inherited from a deleted session and
        /// re-parented (to ``parent``, or made a root when that is `nil`).
        case sessionReparented
        /// Turns ``sequences`` were appended to ``session``.
        case turnsAppended
        /// A checkpoint was saved (``checkpoint``, number ``number``).
        case checkpointSaved
        /// A checkpoint was starred or unstarred.
        case checkpointStarred
        /// A checkpoint was deleted by pruning.
        case checkpointDeleted
        /// A crystal was saved (version ``number``).
        case crystalSaved
        /// A session was written whole by an import (its turns ``sequences``, checkpoints and crystals with it).
        case sessionImported
    }

    /// The entry's position in the log: 1, 2, 3… without gaps, in commit order.
    public var position: Int
    /// What happened.
    public var kind: Kind
    /// The session it happened to.
    public var session: UUID
    /// When it was committed (the timeline's clock).
    public var time: Date
    /// For a fork (or a restore's branch) created, and a re-parented session: the parent, if any.
    public var parent: UUID?
    /// The turn sequences appended, imported, or handed to a re-parented fork.
    public var firstSequence: Int?
    /// One past the last of those sequences.
    public var endSequence: Int?
    /// The checkpoint's id, for checkpoint changes.
    public var checkpoint: UUID?
    /// The checkpoint's number or the crystal's version.
    public var number: Int?

    /// The turn sequences the change covers, when it covers turns.
    public var sequences: Range<Int>? {
        guard let first = firstSequence, let end = endSequence, first <= end else { return nil }
        return first..<end
    }

    /// An entry of the log.
    public init(position: Int, kind: Kind, session: UUID, time: Date, parent: UUID? = nil, sequences: Range<Int>? = nil,
                checkpoint: UUID? = nil, number: Int? = nil) {
        self.position = position
        self.kind = kind
        self.session = session
        self.time = time
        self.parent = parent
        self.firstSequence = sequences?.lowerBound
        self.endSequence = sequences?.upperBound
        self.checkpoint = checkpoint
        self.number = number
    }

    /// The position a `changes` key holds (8 bytes, big-endian), or `nil` for a malformed key.
    static func position(ofKey key: [UInt8]) -> Int? {
        var reader = KeyReader(key)
        guard let raw = reader.read(UInt64.self), reader.isAtEnd else { return nil }
        return Int(exactly: raw)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case position, kind, session, time, parent, firstSequence, endSequence, checkpoint, number
    }
    static let fields = CBORFields<CodingKeys>()

    /// The record-type version this code writes.
    public static let recordVersion = 1
    /// How stored records of earlier versions become version ``recordVersion`` (none yet).
    static let migrations: [MigrationStep] = []
}

extension Change: CBORRecordEncodable {
    /// Writes the change as its synthesized `encode(to:)` does, without `Encoder` (the tests
    /// compare both): every write transaction logs one.
    public func encode(cbor writer: inout CBORItemWriter) throws {
        let map = writer.beginMap()
        writer.entry(CodingKeys.position, position)
        writer.entry(CodingKeys.kind, kind.rawValue)
        writer.entry(CodingKeys.session, session)
        writer.entry(CodingKeys.time, time)
        writer.entry(CodingKeys.parent, parent)
        writer.entry(CodingKeys.firstSequence, firstSequence)
        writer.entry(CodingKeys.endSequence, endSequence)
        writer.entry(CodingKeys.checkpoint, checkpoint)
        writer.entry(CodingKeys.number, number)
        writer.endMap(map)
    }
}

extension Change: CBORRecordDecodable {
    /// Reads an entry straight from CBOR: the log is read in bulk (a replica, a backup update, a
    /// follower catching up), and `Decodable` took 2.3 µs an entry (`Docs/benchmarks.md`).
    public init(cbor reader: inout CBORItemReader) throws {
        var position: Int?, kind: Kind?, session: UUID?, time: Date?
        var change = Change(position: 0, kind: .sessionCreated, session: .zero, time: Date(timeIntervalSince1970: 0))
        try reader.readMap(Self.fields) { field, value in
            switch field {
            case .position: position = try value.decode(Int.self)
            case .kind:
                let name = try value.decode(String.self)
                guard let known = Kind(rawValue: name) else {
                    throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.kind], debugDescription: "unknown change kind \"\(name)\""))
                }
                kind = known
            case .session: session = try value.decode(UUID.self)
            case .time: time = try value.decode(Date.self)
            case .parent: change.parent = value.decodeNil() ? nil : try value.decode(UUID.self)
            case .firstSequence: change.firstSequence = value.decodeNil() ? nil : try value.decodeCount()
            case .endSequence: change.endSequence = value.decodeNil() ? nil : try value.decodeCount()
            case .checkpoint: change.checkpoint = value.decodeNil() ? nil : try value.decode(UUID.self)
            case .number: change.number = value.decodeNil() ? nil : try value.decode(Int.self)
            }
        }
        guard let position, let kind, let session, let time else {
            throw CBORItemReader.missingField("position, kind, session or time", in: Change.self)
        }
        (change.position, change.kind, change.session, change.time) = (position, kind, session, time)
        self = change
    }
}

/// A named reader of the change log and the position it has acknowledged: everything up to it
/// is done, so ``TimelineStore/trimChanges(keepingAtMost:olderThan:)`` may remove it. Stored in the
/// `consumers` database under its name.
public struct ChangeConsumer: Codable, Sendable, Hashable {
    /// The consumer's name (a replica, an index, a backup job…).
    public var name: String
    /// The last position it has applied.
    public var position: Int
    /// When it last acknowledged.
    public var updated: Date

    /// A consumer record.
    public init(name: String, position: Int, updated: Date) {
        self.name = name
        self.position = position
        self.updated = updated
    }

    /// The record-type version this code writes.
    public static let recordVersion = 1
}

/// What ``TimelineStore/trimChanges(keepingAtMost:olderThan:)`` did.
public struct ChangeTrim: Sendable, Hashable {
    /// How many entries it removed.
    public var removed: Int
    /// The oldest position still in the log afterwards.
    public var oldestKept: Int
    /// The consumers it dropped because the cap removed entries they had not acknowledged; each
    /// must start again from a snapshot.
    public var droppedConsumers: [String]
}
