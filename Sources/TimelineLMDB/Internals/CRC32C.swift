internal import CTimelineChecksum

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the write-ahead log's
/// headers and records: it tells a record cut short by a power cut from a whole one.
///
/// By the CPU's CRC instructions where it has them (SSE 4.2 on x86-64; arm64 built for the CRC
/// extension), eight bytes a step in `CTimelineChecksum`; else a byte at a time from a table.
/// The table loop took ~3 % of the writer thread's time in bursts of 64 appends with the log,
/// whose records it checksums whole (`Docs/benchmarks.md`, "Batches without nested
/// transactions").
package enum CRC32C {
    /// Whether ``update(_:_:)`` uses the CPU's instructions.
    package static let inHardware = timeline_crc32c_hardware() != 0

    /// The byte-at-a-time table, built once.
    private static let table: [UInt32] = (0..<256).map { (byte: UInt32) in
        var crc = byte
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// Continues a checksum over `bytes` (start from 0).
    package static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        if inHardware, let base = bytes.baseAddress {
            return timeline_crc32c_update(crc, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
        return updateByTable(crc, bytes)
    }

    /// ``update(_:_:)`` a byte at a time from the table, whatever the CPU: the reference the
    /// instructions are tested against.
    package static func updateByTable(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var value = ~crc
        table.withUnsafeBufferPointer { table in
            for byte in bytes { value = table[Int((value ^ UInt32(byte)) & 0xFF)] ^ (value >> 8) }
        }
        return ~value
    }

    /// The checksum of `bytes`.
    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { update(0, bytes) }
}
