/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the write-ahead log's
/// headers and records: it tells a record cut short by a power cut from a whole one.
enum CRC32C {
    /// The byte-at-a-time table, built once.
    private static let table: [UInt32] = (0..<256).map { (byte: UInt32) in
        var crc = byte
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// Continues a checksum over `bytes` (start from 0).
    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var value = ~crc
        table.withUnsafeBufferPointer { table in
            for byte in bytes { value = table[Int((value ^ UInt32(byte)) & 0xFF)] ^ (value >> 8) }
        }
        return ~value
    }

    /// The checksum of `bytes`.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { update(0, bytes) }
}
