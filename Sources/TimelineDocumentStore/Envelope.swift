internal import CTimelineLZ4

/// The bytes around every stored record: a small header, then one CBOR data item — or, for a
/// large record of a collection that compresses (``ValueCompression``), that same body as an LZ4
/// block.
///
/// ```
/// plain (format 1)                          compressed (format 2)
/// byte 0      0x54 ('T')   marker           byte 0   0x54 ('T')   marker
/// byte 1      0x01         format           byte 1   0x02         format
/// bytes 2…    CBOR unsigned integer:        bytes 2… CBOR unsigned integer: the length n of the
///             the record-type version                body (a plain envelope's bytes after byte 1)
/// then        one CBOR data item: the record then    one LZ4 block that expands to those n bytes
/// ```
///
/// After the two header bytes a plain value is a CBOR sequence (RFC 8742) of two items, so any
/// CBOR library reads both the version and the record; a compressed one is that sequence once
/// LZ4 has expanded it. Documented byte by byte in `Docs/format.md`.
public enum Envelope {
    /// The first byte of every record value.
    public static let marker: UInt8 = 0x54
    /// The envelope format of a plain record value.
    public static let formatVersion: UInt8 = 1
    /// The envelope format of a compressed record value.
    public static let compressedFormatVersion: UInt8 = 2

    /// The two header bytes and the CBOR head of `recordVersion`.
    public static func header(recordVersion: Int) -> [UInt8] {
        var bytes: [UInt8] = [marker, formatVersion]
        appendHead(UInt64(max(0, recordVersion)), to: &bytes)
        return bytes
    }

    /// Splits a plain stored value into its record version and the bytes of the CBOR record.
    /// - Returns: `nil` when the value is not a well-formed plain envelope (a compressed one
    ///   included: see ``plain(_:)``).
    public static func open(_ value: UnsafeRawBufferPointer) -> (version: Int, item: UnsafeRawBufferPointer)? {
        guard value.count >= 4, value[0] == marker, value[1] == formatVersion,
              let (version, start) = readHead(value, at: 2), start < value.count else { return nil }
        return (version, UnsafeRawBufferPointer(rebasing: value[start...]))
    }

    /// The record version of a stored value, plain or compressed; `nil` when it is not a
    /// well-formed envelope. Of a compressed value only the first bytes are expanded, so the
    /// rest of its block is not checked.
    public static func recordVersion(of value: UnsafeRawBufferPointer) -> Int? {
        guard isCompressed(value) else { return open(value)?.version }
        guard let (length, start) = readHead(value, at: 2), start < value.count, value.count - start <= Int(Int32.max),
              length >= 2, length <= min((value.count - start) * 255 + 16, Int(LZ4_MAX_INPUT_SIZE)) else { return nil }
        // The version's head takes at most 5 bytes, and a record at least 1 after it.
        var head: (UInt64, UInt64) = (0, 0)
        let wanted = min(length, 6)
        return withUnsafeMutableBytes(of: &head) { buffer -> Int? in
            buffer[0] = marker
            buffer[1] = formatVersion
            let written = LZ4_decompress_safe_partial(
                value.baseAddress!.advanced(by: start).assumingMemoryBound(to: CChar.self),
                buffer.baseAddress!.advanced(by: 2).assumingMemoryBound(to: CChar.self),
                Int32(value.count - start), Int32(wanted), Int32(wanted))
            guard written == Int32(wanted) else { return nil }
            return open(UnsafeRawBufferPointer(rebasing: buffer[..<(2 + wanted)]))?.version
        }
    }

    /// Whether `value` has the header of a compressed envelope (whose body may still be damaged).
    @inlinable
    public static func isCompressed(_ value: UnsafeRawBufferPointer) -> Bool {
        value.count >= 2 && value[0] == marker && value[1] == compressedFormatVersion
    }

    /// The plain envelope of a stored value: the value itself when it is plain, its body expanded
    /// behind a plain header when it is compressed.
    /// - Returns: `nil` when the value is neither a plain envelope nor a compressed one that
    ///   expands to exactly the length it declares.
    public static func plain(_ value: UnsafeRawBufferPointer) -> [UInt8]? {
        if isCompressed(value) { return expand(value) }
        return open(value) == nil ? nil : Array(value)
    }

    /// The plain envelope a compressed `value` holds, or `nil` when it is not a well-formed
    /// compressed envelope: a declared length LZ4 cannot reach from a block of this size, a block
    /// that does not expand to exactly that length, a body that is not a plain envelope's. Never
    /// reads or writes out of bounds, whatever the bytes (`LZ4_decompress_safe`).
    public static func expand(_ value: UnsafeRawBufferPointer) -> [UInt8]? {
        guard isCompressed(value), let (length, start) = readHead(value, at: 2), start < value.count else { return nil }
        let block = UnsafeRawBufferPointer(rebasing: value[start...])
        // An LZ4 block expands at most ~255-fold: a longer declared length is damage, refused
        // before anything is allocated for it.
        guard length >= 2, length <= min(block.count * 255 + 16, Int(LZ4_MAX_INPUT_SIZE)), block.count <= Int(Int32.max) else { return nil }
        var complete = true
        let plain = [UInt8](unsafeUninitializedCapacity: 2 + length) { buffer, count in
            buffer[0] = marker
            buffer[1] = formatVersion
            let written = LZ4_decompress_safe(
                block.baseAddress!.assumingMemoryBound(to: CChar.self), UnsafeMutableRawPointer(buffer.baseAddress! + 2).assumingMemoryBound(to: CChar.self),
                Int32(block.count), Int32(length))
            complete = written == Int32(length)
            count = complete ? 2 + length : 0
        }
        guard complete else { return nil }
        return plain.withUnsafeBytes { open($0) } == nil ? nil : plain
    }

    /// `plain` (a plain envelope) compressed: the compressed envelope of the same record.
    /// - Parameters:
    ///   - plain: a plain envelope.
    ///   - limit: the longest compressed value wanted; by default, anything shorter than
    ///     `plain`. LZ4 stops as soon as its output would pass it.
    /// - Returns: `nil` when `plain` is not a plain envelope, is too large for one LZ4 block
    ///   (~2 GB), or does not shrink to `limit` bytes or fewer.
    public static func compress(_ plain: UnsafeRawBufferPointer, limit: Int? = nil) -> [UInt8]? {
        guard open(plain) != nil, plain.count - 2 <= Int(LZ4_MAX_INPUT_SIZE) else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: plain[2...])
        var header: [UInt8] = [marker, compressedFormatVersion]
        appendHead(UInt64(body.count), to: &header)
        let capacity = min(limit ?? plain.count - 1, plain.count - 1) - header.count
        guard capacity > 0 else { return nil }
        var fits = false
        let value = [UInt8](unsafeUninitializedCapacity: header.count + capacity) { buffer, count in
            for (index, byte) in header.enumerated() { buffer[index] = byte }
            // 0 when the block would not fit in `capacity`.
            let written = LZ4_compress_default(
                body.baseAddress!.assumingMemoryBound(to: CChar.self), UnsafeMutableRawPointer(buffer.baseAddress! + header.count).assumingMemoryBound(to: CChar.self),
                Int32(body.count), Int32(capacity))
            fits = written > 0
            count = fits ? header.count + Int(written) : 0
        }
        return fits ? value : nil
    }

    /// Appends the CBOR head of an unsigned integer (major type 0) that fits 32 bits.
    private static func appendHead(_ value: UInt64, to bytes: inout [UInt8]) {
        if value < 24 {
            bytes.append(UInt8(value))
        } else if value <= 0xFF {
            bytes += [24, UInt8(value)]
        } else if value <= 0xFFFF {
            bytes += [25, UInt8(value >> 8), UInt8(value & 0xFF)]
        } else {
            bytes.append(26)
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).bigEndian) { bytes.append(contentsOf: $0) }
        }
    }

    /// Reads the CBOR head of an unsigned integer of at most 32 bits at `offset`: its value and
    /// the offset after it, or `nil`.
    private static func readHead(_ value: UnsafeRawBufferPointer, at offset: Int) -> (value: Int, end: Int)? {
        guard offset < value.count else { return nil }
        let initial = value[offset]
        guard initial >> 5 == 0 else { return nil }
        let info = Int(initial & 0x1F)
        let length: Int
        switch info {
        case 0..<24: return (info, offset + 1)
        case 24: length = 1
        case 25: length = 2
        case 26: length = 4
        default: return nil
        }
        guard offset + length < value.count else { return nil }
        let number = (1...length).reduce(0) { $0 << 8 | Int(value[offset + $1]) }
        return (number, offset + 1 + length)
    }
}
