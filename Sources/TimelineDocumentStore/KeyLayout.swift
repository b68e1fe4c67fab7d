package import TimelineCBOR
#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

/// The parts a database's keys are made of, so that tools can show and read keys as values
/// rather than hex: `kvtool dump`, `load` and `get` (`Docs/kvtool.md` lists the layouts). A store's
/// layouts are declared beside the collections that write those keys (`TimelineStore.keyLayouts`).
package struct KeyLayout: Equatable, Sendable {
    /// One part of a composite key (the order-preserving encodings of `Docs/format.md`).
    package enum Part: Equatable, Sendable {
        case uuid, u64, string, bool, date, descendingDate
    }

    package let parts: [Part]

    /// A layout of `parts`, in order.
    package init(_ parts: Part...) { self.parts = parts }

    /// The key's parts as a CBOR array (UUIDs as text, integers, strings, booleans, dates as
    /// nanoseconds since 1970), or `nil` when the bytes do not follow the layout exactly.
    package func decode(_ bytes: [UInt8]) -> CBORValue? {
        var reader = KeyReader(bytes)
        var values: [CBORValue] = []
        for part in parts {
            let value: CBORValue? = switch part {
            case .uuid: reader.read(UUID.self).map { .text($0.uuidString) }
            case .u64: reader.read(UInt64.self).map { .unsigned($0) }
            case .bool: reader.read(Bool.self).map { .bool($0) }
            case .date: reader.read(Int64.self).map { CBORValue($0) }
            case .descendingDate: reader.readDescending(Int64.self).map { CBORValue($0) }
            case .string: reader.read(String.self).map { .text($0) }
            }
            guard let value else { return nil }
            values.append(value)
        }
        guard reader.isAtEnd else { return nil }
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
