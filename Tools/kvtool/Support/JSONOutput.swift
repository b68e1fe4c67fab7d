import Foundation
import Timeline

/// How kvtool prints JSON for scripts.
enum JSONOutput {
    /// Sorted keys and UTC timestamps with microseconds, as session exports write them; `pretty`
    /// for one document, compact for JSON Lines.
    static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            // Foundation's formatters trap on a NaN or far-out date, which a damaged record can hold.
            guard let text = Timestamp.format(date) else {
                // The seconds, not the `Date`: describing an error that holds a NaN `Date` traps.
                throw EncodingError.invalidValue(date.timeIntervalSince1970, .init(codingPath: encoder.codingPath, debugDescription: "a damaged date (\(date.timeIntervalSince1970) s since 1970)"))
            }
            var container = encoder.singleValueContainer()
            try container.encode(text)
        }
        return encoder
    }

    /// `value` as one line of JSON.
    static func line(_ value: some Encodable) throws -> String {
        String(decoding: try encoder(pretty: false).encode(value), as: UTF8.self)
    }

    /// `value` as an indented JSON document.
    static func document(_ value: some Encodable) throws -> String {
        String(decoding: try encoder(pretty: true).encode(value), as: UTF8.self)
    }
}
