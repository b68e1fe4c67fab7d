internal import Foundation
internal import TimelineCBOR
internal import TimelineDocumentStore
internal import KVToolCore
internal import Timeline
internal import TimelineLMDB

/// The fuzz targets: each takes arbitrary bytes and may throw (inside) but must never trap, hang
/// or leak memory; where it can, it also checks a property (round trips, two decoders agreeing)
/// and traps when that fails, which the fuzzer reports as a finding.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The CBOR decoder: generic values, their encoding and their lossless JSON form.
    case cbor
    /// A stored value: the envelope, then each timeline record type through the fast path and
    /// through `Decodable` (which must agree), and a record view.
    case records
    /// A line of `kvtool dump`: the parser, and re-rendering what it accepts.
    case dumpLine = "dump-line"
    /// A `data.wal` beside a small store, opened as after a restart (roll back, replay) or in the
    /// same boot (take up its checkpoint); see ``wal(_:)`` for how the bytes become a log.
    case wal

    /// Runs the target on `data`.
    public func run(_ data: UnsafeRawBufferPointer) {
        switch self {
        case .cbor: Self.cbor(data)
        case .records: Self.records(data)
        case .dumpLine: Self.dumpLine(data)
        case .wal: Self.wal(data)
        }
    }

    static func cbor(_ data: UnsafeRawBufferPointer) {
        guard let value = try? CBORValue(decoding: data) else { return }
        let encoded = value.encoded()
        guard let again = try? CBORValue(decoding: encoded) else { fatalError("a decoded value's encoding does not decode") }
        precondition(again.encoded() == encoded, "encoding is not stable")
        let json = value.jsonText()
        let fromJSON: CBORValue
        do { fromJSON = try CBORValue(json: json) } catch { fatalError("the JSON form of a value does not parse (\(error)): \(json.prefix(300))") }
        precondition(fromJSON.encoded() == encoded, "the JSON form does not give back the value")
        _ = try? CBORDecoder().decode([String: String].self, from: data)
        _ = try? CBORDecoder().decode([Int64].self, from: data)
    }

    /// Decodes through `Decodable` even for a type with a fast path.
    static func decodable<T: Decodable>(_ type: T.Type, _ item: UnsafeRawBufferPointer) -> T? {
        try? CBORDecoder().decode(T.self, from: item)
    }

    /// Both decoders on `item` as `T`: when both accept it, they must give the same record.
    static func agree<T: CBORRecordDecodable & Decodable & Equatable>(_ type: T.Type, _ item: UnsafeRawBufferPointer) {
        let fast = try? CBORDecoder().decode(T.self, from: item)
        let slow = decodable(T.self, item)
        if let fast, let slow { precondition(fast == slow, "\(T.self): the fast path and Decodable disagree") }
    }

    enum ViewField: String, CodingKey, CaseIterable { case id, sessionID, sequence, role, content, created, metadata }
    static let viewFields = CBORFields<ViewField>()
    /// Fields with ids, as the compact form keys them (a turn's first four; `sessionID` left out).
    enum CompactField: String, CodingKey, CaseIterable {
        case sessionID, id, role, content, created
        var intValue: Int? { self == .sessionID ? -1 : Self.allCases.firstIndex(of: self).map { $0 - 1 } }
        init?(intValue: Int) { guard let field = Self.allCases.first(where: { $0.intValue == intValue }) else { return nil }; self = field }
    }
    static let compactFields = CBORFields<CompactField>()
    static let compactNames = JSONFieldNames(CompactField.self, nested: [(.content, JSONFieldNames(CompactField.self))])

    static func records(_ data: UnsafeRawBufferPointer) {
        // A compressed envelope is read from its expanded form, as the collections read it; its
        // version, as a migration's count reads it, from its first bytes alone.
        _ = Envelope.recordVersion(of: data)
        if Envelope.isCompressed(data) {
            guard let plain = Envelope.expand(data) else { return }
            return plain.withUnsafeBytes { records($0) }
        }
        guard let (_, item) = Envelope.open(data) else { return }
        agree(Session.self, item)
        agree(Turn.self, item)
        _ = decodable(Checkpoint.self, item)
        _ = decodable(Crystal.self, item)
        guard var view = try? CBORMapView(item, fields: viewFields) else { return }
        _ = try? view.decode(.id, as: UUID.self)
        _ = try? view.decode(.sequence, as: UInt64.self)
        _ = try? view.decode(.role, as: String.self)
        _ = try? view.decode(.content, as: String.self)
        _ = try? view.decode(.created, as: Date.self)
        _ = try? view.decode(.metadata, as: [String: String].self)
        // The compact form's readers: ids in a view, and JSON with names and leading members,
        // which must be valid JSON whenever the transcoder accepts the input.
        if var compact = try? CBORMapView(item, fields: compactFields) {
            _ = try? compact.decode(.created, as: Date.self)
            _ = try? compact.decode(.id, as: UUID.self)
            _ = try? compact.decode(.content, as: String.self)
        }
        compactScanAgrees(item)
        var json: [UInt8] = []
        if (try? CBORJSONTranscoder.append(item, to: &json, names: compactNames, leading: Array(#""k":1"#.utf8))) != nil {
            precondition((try? JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed])) != nil,
                         "the transcoder wrote invalid JSON: \(String(decoding: json.prefix(300), as: UTF8.self))")
        }
    }

    /// Field ids 0–23, each a field, for the map view to check the quick walk against.
    enum IDField: Int, CodingKey, CaseIterable {
        case f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23
    }
    static let idFields = CBORFields<IDField>()

    /// The quick walk of a compact record against the map view, which reads every form: what the
    /// walk decides — where a field is, that it is absent, a value its readers read — the view
    /// must say too. Fields are looked up in order, then again in reverse (which starts the walk
    /// over each time); a second scan reads each field with every typed read (`date(field:)`
    /// and the others) from the state the reads before left, one of them moving it on.
    public static func compactScanAgrees(_ item: UnsafeRawBufferPointer) {
        var scan = CBORCompactScan(item), typed = scan
        guard (try? CBORMapView(item, fields: idFields)) != nil else {
            precondition(!scan.startsWithMap, "the quick walk reads a map the map view refuses")
            return
        }
        for field in IDField.allCases + IDField.allCases.reversed() {
            typedReadsAgree(item, field, &typed)
            var view = try! CBORMapView(item, fields: idFields)
            let at = scan.lookup(field.rawValue)
            if at == CBORCompactScan.absent {
                precondition((try? view.contains(field)) == false, "field \(field.rawValue): the quick walk says absent, the map view does not")
                continue
            }
            guard at >= 0 else { continue }
            guard var value = try? view.value(field) else { fatalError("field \(field.rawValue): the quick walk found it, the map view did not") }
            if let bytes = scan.textBytes(at: at) {
                let general = try? value.decodeTextBytes()
                precondition(general?.baseAddress == bytes.baseAddress && general?.count == bytes.count, "field \(field.rawValue): text bytes differ")
            }
            if let text = scan.text(at: at) { precondition((try? view.decode(field, as: String.self)) == text, "field \(field.rawValue): texts differ") }
            if let date = scan.date(at: at) { precondition((try? view.decode(field, as: Date.self)) == date, "field \(field.rawValue): dates differ") }
            if let uuid = scan.uuid(at: at) { precondition((try? view.decode(field, as: UUID.self)) == uuid, "field \(field.rawValue): UUIDs differ") }
            if let number = scan.optionalInt(at: at) {
                precondition((try? view.decode(field, as: Int.self)) == .some(number), "field \(field.rawValue): integers differ")
            }
        }
    }

    /// Each typed read of `field` from `scan`'s state against the map view: a value read must be
    /// the view's, a field called absent must be absent there. One read's state is kept, by turns.
    static func typedReadsAgree(_ item: UnsafeRawBufferPointer, _ field: IDField, _ scan: inout CBORCompactScan) {
        let id = field.rawValue
        func general<Value: Decodable>(_ type: Value.Type) -> Value? {
            guard var view = try? CBORMapView(item, fields: idFields) else { return nil }
            return try? view.decode(field, as: Value.self)
        }
        func check<Value>(_ reading: CBORCompactScan.Reading<Value>, _ what: String, _ same: (Value) -> Bool) {
            switch reading {
            case .value(let value): precondition(same(value), "field \(id): the typed \(what) read differs from the map view's")
            case .absent:
                var view = try! CBORMapView(item, fields: idFields)
                precondition((try? view.contains(field)) == false, "field \(id): the typed \(what) read says absent, the map view does not")
            case .undecided: break
            }
        }
        var reads = [scan, scan, scan, scan, scan]
        check(reads[0].textBytes(field: id), "text bytes") { bytes in
            guard var view = try? CBORMapView(item, fields: idFields), var value = try? view.value(field),
                  let general = try? value.decodeTextBytes() else { return false }
            return general.baseAddress == bytes.baseAddress && general.count == bytes.count
        }
        check(reads[1].text(field: id), "text") { $0 == general(String.self) }
        check(reads[2].date(field: id), "date") { $0 == general(Date.self) }
        check(reads[3].uuid(field: id), "UUID") { $0 == general(UUID.self) }
        check(reads[4].optionalInt(field: id), "integer") { general(Int.self) == .some($0) }   // null: no Int, and nil
        scan = reads[id % reads.count]
    }

    static let databases = ["meta", "sessions", "turns", "checkpoints", "crystals", "idx.sessions.project", "idx.sessions.parent",
                            "idx.sessions.activity", "idx.checkpoints.id", "idx.checkpoints.created", "other"]

    static func dumpLine(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        guard case .entry(let database, let key, let value)? = try? DumpFormat.parse(text, databases: databases) else { return }
        let line = DumpFormat.line(database: database, key: key, value: value)
        guard case .entry(database, key, value)? = try? DumpFormat.parse(line, databases: databases) else {
            fatalError("a dumped line does not read back to the same entry: \(line.prefix(200))")
        }
        if let layout = TimelineStore.keyLayouts[database], let parts = layout.decode(key) {
            precondition((try? layout.encode(parts)) == key, "a key's parts do not encode back to it")
        }
    }
}
