package import TimelineCBOR
internal import TimelineDocumentStore
internal import Timeline
internal import Foundation

/// The JSON Lines of `kvtool dump` and `kvtool load` (specified in `Docs/kvtool.md`):
///
/// ```
/// {"dump":"timelinestore","version":1,"storeFormat":1,"recordVersions":{"sessions":1,…},"databases":["checkpoints",…]}
/// {"db":"sessions","key":["E621E1F8-…"],"value":{"v":1,"record":{…}}}
/// {"db":"turns","key":["E621E1F8-…",7],"value":{"v":3,"record":{…},"compressed":"lz4"}}
/// …
/// {"end":true,"entries":4711}
/// ```
///
/// Every line is a CBOR value in its lossless JSON form, so keys and values read back to exactly
/// the bytes they were dumped from.
package enum DumpFormat {
    package static let name = "timelinestore"
    package static let version = 1

    /// The first line: what the dump holds.
    package struct Header: Equatable {
        package var storeFormat: Int?
        package var recordVersions: [(String, Int)]
        package var databases: [String]

        package init(storeFormat: Int?, recordVersions: [(String, Int)], databases: [String]) {
            self.storeFormat = storeFormat
            self.recordVersions = recordVersions
            self.databases = databases
        }

        package static func == (lhs: Header, rhs: Header) -> Bool {
            lhs.storeFormat == rhs.storeFormat && lhs.databases == rhs.databases
                && lhs.recordVersions.map(\.0) == rhs.recordVersions.map(\.0) && lhs.recordVersions.map(\.1) == rhs.recordVersions.map(\.1)
        }
    }

    /// One parsed line.
    package enum Line {
        case header(Header)
        case entry(database: String, key: [UInt8], value: [UInt8])
        case end(entries: Int)
    }

    // MARK: Writing

    package static func line(_ header: Header) -> String {
        var fields: [CBORValue.MapEntry] = [.init(.text("dump"), .text(name)), .init(.text("version"), CBORValue(Int64(version)))]
        if let format = header.storeFormat { fields.append(.init(.text("storeFormat"), CBORValue(Int64(format)))) }
        fields.append(.init(.text("recordVersions"), .map(header.recordVersions.map { .init(.text($0.0), CBORValue(Int64($0.1))) })))
        fields.append(.init(.text("databases"), .array(header.databases.map { .text($0) })))
        return CBORValue.map(fields).jsonText()
    }

    package static func line(database: String, key: [UInt8], value: [UInt8]) -> String {
        CBORValue.map([
            .init(.text("db"), .text(database)),
            .init(.text("key"), show(key: key, in: database)),
            .init(.text("value"), show(value: value, in: database)),
        ]).jsonText()
    }

    package static func endLine(entries: Int) -> String {
        CBORValue.map([.init(.text("end"), .bool(true)), .init(.text("entries"), CBORValue(Int64(entries)))]).jsonText()
    }

    /// A key as its parts (a TimelineStore database), as text (`meta`), or as hex.
    package static func show(key: [UInt8], in database: String) -> CBORValue {
        if database == "meta", let text = String(validating: key, as: UTF8.self), !text.isEmpty { return .text(text) }
        if let layout = TimelineStore.keyLayouts[database], let parts = layout.decode(key) { return parts }
        return .map([.init(.text("hex"), .text(hex(key)))])
    }

    /// A value as a record envelope (compressed or not), as CBOR (`meta`), or as base64 —
    /// whichever gives back the exact bytes.
    package static func show(value: [UInt8], in database: String) -> CBORValue {
        if value.withUnsafeBytes({ Envelope.isCompressed($0) }), let plain = value.withUnsafeBytes({ Envelope.expand($0) }),
           case .map(var fields) = show(value: plain, in: database), fields.count == 2,
           plain.withUnsafeBytes({ Envelope.compress($0) }) == value {
            fields.append(.init(.text("compressed"), .text("lz4")))
            return .map(fields)
        }
        if let opened = value.withUnsafeBytes({ Envelope.open($0) }), let item = try? CBORValue(decoding: Array(opened.item)),
           Envelope.header(recordVersion: opened.version) + item.encoded() == value {
            return .map([.init(.text("v"), CBORValue(Int64(opened.version))), .init(.text("record"), item)])
        }
        if database == "meta", let item = try? CBORValue(decoding: value), item.encoded() == value {
            return .map([.init(.text("cbor"), item)])
        }
        return .map([.init(.text("base64"), .text(Data(value).base64EncodedString()))])
    }

    package static func hex(_ bytes: [UInt8]) -> String { KeyBytes(raw: bytes).description }

    /// The timeline's record databases: every value in them is a record envelope.
    package static let recordDatabases: Set<String> = ["sessions", "turns", "checkpoints", "crystals"]

    /// Why an entry cannot be what its database holds — a key off the database's layout, a
    /// record that is not an envelope: what page damage or a stray write leaves — or `nil`.
    package static func damage(database: String, key: [UInt8], value: [UInt8]) -> String? {
        if key.isEmpty { return "an empty key" }
        if let layout = TimelineStore.keyLayouts[database], layout.decode(key) == nil { return "the key does not follow the layout of \(database) (\(layout))" }
        if recordDatabases.contains(database), value.withUnsafeBytes({ Envelope.plain($0) }) == nil { return "the value is not a record envelope" }
        return nil
    }

    // MARK: Reading

    /// Parses one line; an entry must belong to one of `databases` (the header's list).
    /// - Throws: ``DumpError`` saying what is wrong with it.
    package static func parse(_ text: String, databases: [String]) throws -> Line {
        let value: CBORValue
        do {
            // A record sits two levels down in its line (the line's object, then `value`'s), so
            // the line is read two levels deeper than the decoder's limit (256): every record
            // `show(value:)` wrote in the record form reads back.
            value = try CBORValue(json: text, maxDepth: 256 + 2)
        } catch {
            throw DumpError("malformed JSON: \(error)")
        }
        guard case .map(let fields) = value else { throw DumpError("a line must be a JSON object") }
        let keys = fields.map { $0.key.textValue ?? "?" }
        if value["dump"] != nil {
            guard value["dump"]?.textValue == name else { throw DumpError("not a TimelineStore dump (\"dump\" must be \"\(name)\")") }
            guard let version = value["version"]?.int64Value, version <= Int64(Self.version) else {
                throw DumpError("dump version \(value["version"].map { "\($0)" } ?? "missing") is not one this kvtool reads (\(Self.version))")
            }
            guard case .array(let names)? = value["databases"], case .map(let versions)? = value["recordVersions"] else {
                throw DumpError("the header needs \"databases\" (an array) and \"recordVersions\" (an object)")
            }
            let databases = try names.map { name in
                guard let text = name.textValue, !text.isEmpty, text.utf8.count <= 511 else { throw DumpError("database names must be non-empty strings") }
                return text
            }
            let recordVersions = try versions.map { entry in
                guard let name = entry.key.textValue, let version = entry.value.int64Value else { throw DumpError("recordVersions must map names to integers") }
                return (name, Int(version))
            }
            return .header(Header(storeFormat: value["storeFormat"]?.int64Value.map(Int.init), recordVersions: recordVersions, databases: databases))
        }
        if value["end"] != nil {
            guard keys == ["end", "entries"], let count = value["entries"]?.int64Value, count >= 0 else {
                throw DumpError("the end line is {\"end\":true,\"entries\":N}")
            }
            return .end(entries: Int(count))
        }
        guard keys == ["db", "key", "value"], let database = value["db"]?.textValue, let key = value["key"], let shown = value["value"] else {
            throw DumpError("an entry line is {\"db\":…,\"key\":…,\"value\":…}")
        }
        guard databases.contains(database) else {
            throw DumpError("unknown database \"\(database)\": the header lists \(databases.joined(separator: ", "))")
        }
        return .entry(database: database, key: try read(key: key, in: database), value: try read(value: shown))
    }

    package static func read(key: CBORValue, in database: String) throws -> [UInt8] {
        let bytes: [UInt8]
        switch key {
        case .text(let text) where database == "meta":
            bytes = Array(text.utf8)
        case .map:
            guard case .map(let entries) = key, entries.count == 1, let digits = key["hex"]?.textValue, let decoded = KeyBytes(hex: digits)?.bytes else {
                throw DumpError("a raw key is {\"hex\":\"…\"} with an even number of hex digits")
            }
            bytes = decoded
        case .array:
            guard let layout = TimelineStore.keyLayouts[database] else {
                throw DumpError("database \"\(database)\" has no known key layout: write its keys as {\"hex\":\"…\"}")
            }
            do { bytes = try layout.encode(key) } catch { throw DumpError("key for \"\(database)\": \(error)") }
        default:
            throw DumpError("a key is an array of parts, {\"hex\":\"…\"}, or (in meta) a string")
        }
        guard !bytes.isEmpty, bytes.count <= 511 else { throw DumpError("a key must be 1 to 511 bytes") }
        return bytes
    }

    package static func read(value: CBORValue) throws -> [UInt8] {
        guard case .map(let entries) = value else { throw DumpError("a value is an object: {\"v\":…,\"record\":…}, {\"cbor\":…} or {\"base64\":…}") }
        let keys = entries.map { $0.key.textValue ?? "?" }
        switch keys {
        case ["v", "record"], ["v", "record", "compressed"]:
            guard let version = value["v"]?.int64Value, version >= 0, version <= Int64(UInt32.max), let record = value["record"] else {
                throw DumpError("a record's \"v\" is its version, 0 to 4294967295")
            }
            let plain = Envelope.header(recordVersion: Int(version)) + record.encoded()
            guard let compression = value["compressed"] else { return plain }
            guard compression.textValue == "lz4" else { throw DumpError("a record's \"compressed\" is \"lz4\", the one compression there is") }
            guard let compressed = plain.withUnsafeBytes({ Envelope.compress($0) }) else {
                throw DumpError("the record does not shrink under LZ4: store it plain (without \"compressed\")")
            }
            return compressed
        case ["cbor"]:
            return value["cbor"]!.encoded()
        case ["base64"]:
            guard let text = value["base64"]?.textValue, let data = Data(base64Encoded: text) else { throw DumpError("\"base64\" is not valid base64") }
            return Array(data)
        default:
            throw DumpError("a value is {\"v\":…,\"record\":…}, {\"cbor\":…} or {\"base64\":…}, not an object with \(keys)")
        }
    }

}

/// What is wrong with a line of a dump.
package struct DumpError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
