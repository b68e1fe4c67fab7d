/// The bytes around every stored record: a small header, then one CBOR data item.
///
/// ```
/// byte 0      0x54 ('T')   marker: a TimelineStore record
/// byte 1      0x01         envelope format version
/// bytes 2…    CBOR unsigned integer: the record-type version the record was written with
/// then        one CBOR data item: the record
/// ```
///
/// After the two header bytes the value is a CBOR sequence (RFC 8742) of two items, so any CBOR
/// library reads both the version and the record. Documented byte by byte in `Docs/format.md`.
public enum Envelope {
    /// The first byte of every record value.
    public static let marker: UInt8 = 0x54
    /// The envelope format this code writes and reads.
    public static let formatVersion: UInt8 = 1

    /// The two header bytes and the CBOR head of `recordVersion`.
    public static func header(recordVersion: Int) -> [UInt8] {
        var bytes: [UInt8] = [marker, formatVersion]
        let version = UInt64(max(0, recordVersion))
        if version < 24 {
            bytes.append(UInt8(version))
        } else if version <= 0xFF {
            bytes += [24, UInt8(version)]
        } else if version <= 0xFFFF {
            bytes += [25, UInt8(version >> 8), UInt8(version & 0xFF)]
        } else {
            bytes.append(26)
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: version).bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Splits a stored value into its record version and the bytes of the CBOR record.
    /// - Returns: `nil` when the value is not a well-formed envelope.
    public static func open(_ value: UnsafeRawBufferPointer) -> (version: Int, item: UnsafeRawBufferPointer)? {
        guard value.count >= 4, value[0] == marker, value[1] == formatVersion else { return nil }
        let initial = value[2]
        guard initial >> 5 == 0 else { return nil }
        let info = Int(initial & 0x1F)
        let version: Int, headLength: Int
        switch info {
        case 0..<24: (version, headLength) = (info, 1)
        case 24: (version, headLength) = (Int(value[3]), 2)
        case 25:
            guard value.count >= 5 else { return nil }
            (version, headLength) = (Int(value[3]) << 8 | Int(value[4]), 3)
        case 26:
            guard value.count >= 7 else { return nil }
            (version, headLength) = ((3...6).reduce(0) { $0 << 8 | Int(value[$1]) }, 5)
        default: return nil
        }
        let start = 2 + headLength
        guard start < value.count else { return nil }
        return (version, UnsafeRawBufferPointer(rebasing: value[start...]))
    }
}
