/// Why a byte string is not well-formed CBOR, or not CBOR this library accepts. Thrown by
/// `CBORValue(decoding:)` and, wrapped in `DecodingError.dataCorrupted`, by
/// ``CBORDecoder``.
public struct CBORError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem.
    public enum Kind: Hashable, Sendable {
        /// The input ended inside an item.
        case truncated
        /// An additional-information value of 28, 29 or 30 (reserved by RFC 8949).
        case reservedAdditionalInformation
        /// A length or count larger than the bytes that are left could hold.
        case lengthExceedsInput
        /// Items nested deeper than the decoder's maximum depth.
        case tooDeep
        /// A text string that is not valid UTF-8.
        case invalidUTF8
        /// An indefinite-length item where only definite lengths are accepted, or a malformed one.
        case indefiniteLength
        /// A "break" stop code outside an indefinite-length item.
        case unexpectedBreak
        /// A simple value encoded in two bytes below 32 (not well-formed per RFC 8949 §3.3).
        case invalidSimpleValue
        /// Bytes left over after the single top-level item.
        case trailingBytes
        /// A map key that JSON cannot hold (neither text nor an integer), met by ``CBORJSONTranscoder``.
        case unsupportedMapKey
    }

    /// The kind of problem.
    public let kind: Kind
    /// The byte offset in the input where it was found.
    public let offset: Int

    /// Creates an error.
    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// A readable sentence naming the problem and its offset.
    public var description: String {
        let what: String = switch kind {
        case .truncated: "the input ends inside an item"
        case .reservedAdditionalInformation: "reserved additional information (28–30)"
        case .lengthExceedsInput: "a length larger than the rest of the input"
        case .tooDeep: "items nested too deeply"
        case .invalidUTF8: "a text string that is not valid UTF-8"
        case .indefiniteLength: "an indefinite-length item where it is not allowed"
        case .unexpectedBreak: "a break stop code outside an indefinite-length item"
        case .invalidSimpleValue: "a two-byte simple value below 32"
        case .trailingBytes: "bytes after the end of the item"
        case .unsupportedMapKey: "a map key that is neither text nor an integer, which JSON cannot hold"
        }
        return "not well-formed CBOR at byte \(offset): \(what)"
    }
}
