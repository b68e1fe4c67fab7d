package import CBOR
internal import DocumentStore
internal import Foundation

/// How the keys of a TimelineStore database are built, so that `dump`, `load` and `get` can show
/// and read them as values rather than hex (`Docs/kvtool.md` lists the layouts).
package struct KeyLayout: Equatable {
    /// One part of a composite key (the order-preserving encodings of `Docs/format.md`).
    package enum Part: Equatable {
        case uuid, u64, string, bool, date, descendingDate
    }

    package let parts: [Part]

    /// The layout of `database`'s keys in a TimelineStore, if it is one of its databases.
    package static func of(database name: String) -> KeyLayout? {
        switch name {
        case "sessions", "idx.checkpoints.id": KeyLayout(parts: [.uuid])
        case "turns", "checkpoints", "crystals": KeyLayout(parts: [.uuid, .u64])
        case "idx.sessions.project": KeyLayout(parts: [.string, .bool, .descendingDate, .uuid])
        case "idx.sessions.parent": KeyLayout(parts: [.uuid, .bool, .descendingDate, .uuid])
        case "idx.sessions.activity": KeyLayout(parts: [.bool, .descendingDate, .uuid])
        case "idx.checkpoints.created": KeyLayout(parts: [.date, .uuid, .u64])
        default: nil
        }
    }

    /// The key's parts as a CBOR array (UUIDs as text, integers, strings, booleans, dates as
    /// nanoseconds since 1970), or `nil` when the bytes do not follow the layout exactly.
    package func decode(_ bytes: [UInt8]) -> CBORValue? {
        var offset = 0
        var values: [CBORValue] = []
        func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard bytes.count - offset >= count else { return nil }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
        func integer(_ slice: ArraySlice<UInt8>) -> UInt64 { slice.reduce(0) { $0 << 8 | UInt64($1) } }
        for part in parts {
            switch part {
            case .uuid:
                guard let slice = take(16), let uuid = UUID(keyBytes: slice) else { return nil }
                values.append(.text(uuid.uuidString))
            case .u64:
                guard let slice = take(8) else { return nil }
                values.append(.unsigned(integer(slice)))
            case .bool:
                guard let slice = take(1), let byte = slice.first, byte <= 1 else { return nil }
                values.append(.bool(byte == 1))
            case .date, .descendingDate:
                guard let slice = take(8) else { return nil }
                let raw = part == .date ? integer(slice) : ~integer(slice)
                values.append(CBORValue(Int64(bitPattern: raw ^ (1 << 63))))
            case .string:
                var text: [UInt8] = []
                while true {
                    guard let byte = take(1)?.first else { return nil }
                    if byte != 0 { text.append(byte); continue }
                    guard let next = take(1)?.first else { return nil }
                    if next == 0x01 { break }
                    guard next == 0xFF else { return nil }
                    text.append(0)
                }
                guard let string = String(validating: text, as: UTF8.self) else { return nil }
                values.append(.text(string))
            }
        }
        guard offset == bytes.count else { return nil }
        let decoded = CBORValue.array(values)
        return (try? encode(decoded)) == bytes ? decoded : nil
    }

    /// The key bytes for parts written as ``decode(_:)`` shows them.
    package func encode(_ value: CBORValue) throws -> [UInt8] {
        guard case .array(let values) = value, values.count == parts.count else {
            throw KeyLayoutError("expected an array of \(parts.count) parts (\(description))")
        }
        var bytes: [UInt8] = []
        // Written by DocumentStore's own key encodings, so dumps and stores can never disagree.
        for (part, value) in zip(parts, values) {
            switch (part, value) {
            case (.uuid, .text(let text)):
                guard let uuid = UUID(uuidString: text) else { throw KeyLayoutError("\"\(text)\" is not a UUID") }
                uuid.appendKey(to: &bytes)
            case (.u64, .unsigned(let number)):
                number.appendKey(to: &bytes)
            case (.bool, .bool(let flag)):
                flag.appendKey(to: &bytes)
            case (.date, _), (.descendingDate, _):
                guard let nanoseconds = value.int64Value else { throw KeyLayoutError("a date part is an integer of nanoseconds") }
                if part == .date { nanoseconds.appendKey(to: &bytes) } else { Descending(nanoseconds).appendKey(to: &bytes) }
            case (.string, .text(let text)):
                text.appendKey(to: &bytes)
            default:
                throw KeyLayoutError("part \(value) does not fit \(description)")
            }
        }
        return bytes
    }

    /// The layout in words, e.g. `[uuid, u64]`.
    package var description: String {
        "[" + parts.map { part in
            switch part {
            case .uuid: "uuid"
            case .u64: "u64"
            case .string: "string"
            case .bool: "bool"
            case .date: "date-ns"
            case .descendingDate: "desc-date-ns"
            }
        }.joined(separator: ", ") + "]"
    }
}

/// A key that does not fit its database's layout.
package struct KeyLayoutError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
