#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Reads a composite key back, part by part, in the encodings ``KeyEncodable`` writes
/// (`Docs/format.md`): the decoder beside `KeyBytes(…)`.
///
/// ```swift
/// var reader = KeyReader(key)                       // KeyBytes(sessionID, UInt64(sequence))
/// guard let session = reader.read(UUID.self), let sequence = reader.read(UInt64.self), reader.isAtEnd else { … }
/// ```
/// Each `read` returns `nil`, consuming nothing, when the bytes left do not hold that part.
public struct KeyReader {
    /// The bytes not read yet.
    public private(set) var remaining: ArraySlice<UInt8>

    /// A reader at the start of `bytes`.
    public init(_ bytes: some Collection<UInt8>) { remaining = ArraySlice(bytes) }

    /// Whether every byte was read.
    public var isAtEnd: Bool { remaining.isEmpty }

    private mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard remaining.count >= count else { return nil }
        defer { remaining = remaining.dropFirst(count) }
        return remaining.prefix(count)
    }

    private static func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }

    /// An unsigned 64-bit number (8 bytes, big-endian).
    public mutating func read(_: UInt64.Type) -> UInt64? { take(8).map(Self.bigEndian) }

    /// A signed 64-bit number (8 bytes, big-endian, sign bit flipped).
    public mutating func read(_: Int64.Type) -> Int64? { take(8).map { Int64(bitPattern: Self.bigEndian($0) ^ (1 << 63)) } }

    /// A signed 64-bit number written as `Descending(Int64)` (every bit inverted).
    public mutating func readDescending(_: Int64.Type) -> Int64? { take(8).map { Int64(bitPattern: ~Self.bigEndian($0) ^ (1 << 63)) } }

    /// A UUID (16 bytes).
    public mutating func read(_: UUID.Type) -> UUID? {
        guard remaining.count >= 16, let uuid = UUID(keyBytes: remaining.prefix(16)) else { return nil }
        remaining = remaining.dropFirst(16)
        return uuid
    }

    /// A Boolean (one byte, 0 or 1).
    public mutating func read(_: Bool.Type) -> Bool? {
        guard let byte = remaining.first, byte <= 1 else { return nil }
        remaining = remaining.dropFirst()
        return byte == 1
    }

    /// A string (UTF-8 with 0x00 escaped as 0x00 0xFF, ended by 0x00 0x01).
    public mutating func read(_: String.Type) -> String? {
        var text: [UInt8] = []
        var rest = remaining
        while true {
            guard let byte = rest.popFirst() else { return nil }
            if byte != 0 { text.append(byte); continue }
            switch rest.popFirst() {
            case 0x01?:
                guard let string = String(validating: text, as: UTF8.self) else { return nil }
                remaining = rest
                return string
            case 0xFF?: text.append(0)
            default: return nil
            }
        }
    }
}
