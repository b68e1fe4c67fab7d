internal import Foundation
internal import TimelineLMDB

/// The `wal` fuzz target. A forged log is the case to fear — its checksums hold, so the scan takes
/// it as written — so the input is not the file itself but what a log says, which this target
/// lays out and seals as `Docs/format.md` ("The write-ahead log") describes:
///
/// - byte 0, flags: 1 — the header claims this boot (the open takes up its checkpoint rather
///   than replaying); 2 — the header's chain start is bytes 25–32 (else 0, the record area's
///   head); 4 — after sealing, one byte of the records is inverted (at the start field, modulo
///   their length); 8 — after the open with the log, open once more with `.durable` (which folds
///   the log into `data.mdb` and removes it);
/// - bytes 1–32: the header's generation, checkpoint transaction, salt and start (`u64`s);
/// - then records: a `u16` payload length and the payload (operations), back to back from the
///   record area's head, with the header's salt and transaction ids `T + 1`, `T + 2`, …; a length
///   of `0xFFFF` followed by a `u64` is a jump instead: to that many bytes (modulo 4,096) past the
///   jump, where the next record goes — or, with flag 16, to the `u64` itself, wherever it points;
/// - with flag 32, the 48 bytes after the header's fields first forge the saved meta pages: 16
///   triples of an offset (`u16`, modulo the two pages) and a byte XORed in there; the records
///   follow them.
///
/// The header saves the meta pages of the small store the log sits beside (forged or not). Whatever
/// the log says, opening must end in a store or an error, never a trap.
extension FuzzTarget {
    static let walPageSize = 4096
    static let walSlotSize = 4096 + 2 * walPageSize

    /// A small store (a `data` database of 20 entries) made once: `data.mdb`'s bytes.
    static let walTemplate: [UInt8] = {
        let directory = walScratch("template")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let environment = try Environment(path: directory, configuration: .init(maxMapSize: 1 << 26))
            let database = try environment.openDatabase("data")
            try environment.write { txn in
                for index in 0..<20 { try database.put(Array("value \(index)".utf8), for: Array("key \(index)".utf8), in: txn) }
            }
            try environment.close()
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/data.mdb")))
        } catch {
            fatalError("the wal target's template store: \(error)")
        }
    }()

    /// A fresh directory, in memory where the machine has a writable `/dev/shm` (each input syncs
    /// files).
    static func walScratch(_ name: String) -> String {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
        let directory = "\(base)/timelinestore-fuzz-wal-\(getpid())-\(name)"
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    static func wal(_ data: UnsafeRawBufferPointer) {
        guard data.count >= 33 else { return }
        let input = [UInt8](data)
        func word(_ at: Int) -> UInt64 { input.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self)) } }
        let flags = input[0]
        let (generation, checkpoint, salt) = (word(1), word(9), word(17))
        let start = flags & 2 != 0 ? word(25) : 0
        let template = walTemplate
        // The header slot, as a checkpoint writes it.
        var slot = [UInt8](repeating: 0, count: walSlotSize)
        slot.replaceSubrange(0..<8, with: Array("LMDB-WAL".utf8))
        slot.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(2).littleEndian, toByteOffset: 8, as: UInt32.self)
            raw.storeBytes(of: UInt32(walPageSize).littleEndian, toByteOffset: 12, as: UInt32.self)
            raw.storeBytes(of: generation.littleEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: checkpoint.littleEndian, toByteOffset: 24, as: UInt64.self)
            raw.storeBytes(of: salt.littleEndian, toByteOffset: 32, as: UInt64.self)
            raw.storeBytes(of: start.littleEndian, toByteOffset: 40, as: UInt64.self)
            raw.storeBytes(of: UInt32(2 * walPageSize).littleEndian, toByteOffset: 100, as: UInt32.self)
        }
        let boot = Array((flags & 1 != 0 ? Environment.currentBootID : "another boot").utf8.prefix(40))
        slot.replaceSubrange(56..<56 + boot.count, with: boot)
        slot.replaceSubrange(4096..<walSlotSize, with: template[0..<2 * walPageSize])
        var at = 33
        if flags & 32 != 0 {
            while at + 3 <= min(input.count, 33 + 48) {
                slot[4096 + (Int(input[at]) | Int(input[at + 1]) << 8) % (2 * walPageSize)] ^= input[at + 2]
                at += 3
            }
        }
        let headerCRC = slot.withUnsafeBytes { raw in
            var crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<96]))
            crc = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: raw[100..<4096]))
            return CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: raw[4096...]))
        }
        slot.withUnsafeMutableBytes { $0.storeBytes(of: headerCRC.littleEndian, toByteOffset: 96, as: UInt32.self) }
        // The records, sealed one after another.
        var records: [UInt8] = []
        var transaction = checkpoint &+ 1
        let recordsStart = 2 * walSlotSize
        while at + 2 <= input.count {
            if input[at] == 0xFF, input[at + 1] == 0xFF, at + 10 <= input.count {
                let raw = input.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at + 2, as: UInt64.self)) }
                let next = recordsStart + records.count + 32 + Int(raw % 4096)
                var jump = [UInt8](repeating: 0, count: 32)
                jump.withUnsafeMutableBytes { bytes in
                    bytes.storeBytes(of: UInt32.max.littleEndian, toByteOffset: 0, as: UInt32.self)
                    bytes.storeBytes(of: salt.littleEndian, toByteOffset: 8, as: UInt64.self)
                    bytes.storeBytes(of: transaction.littleEndian, toByteOffset: 16, as: UInt64.self)
                    bytes.storeBytes(of: (flags & 16 != 0 ? raw : UInt64(next)).littleEndian, toByteOffset: 24, as: UInt64.self)
                }
                let crc = jump.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[8...])) }
                jump.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self) }
                records += jump + [UInt8](repeating: 0, count: next - recordsStart - records.count - 32)
                at += 10
                continue
            }
            let length = min(Int(input[at]) | Int(input[at + 1]) << 8, input.count - at - 2)
            var record = [UInt8](repeating: 0, count: 24)
            record.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 0, as: UInt32.self)
                raw.storeBytes(of: salt.littleEndian, toByteOffset: 8, as: UInt64.self)
                raw.storeBytes(of: transaction.littleEndian, toByteOffset: 16, as: UInt64.self)
            }
            record += input[at + 2..<at + 2 + length]
            let crc = record.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[8...])) }
            record.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self) }
            records += record
            at += 2 + length
            transaction &+= 1
        }
        if flags & 4 != 0, !records.isEmpty { records[Int(word(25) % UInt64(records.count))] ^= 0xFF }
        let directory = walScratch("store")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            try Data(template).write(to: URL(fileURLWithPath: directory + "/data.mdb"))
            try Data(slot + slot + records).write(to: URL(fileURLWithPath: directory + "/data.wal"))
        } catch {
            fatalError("the wal target could not write its files: \(error)")
        }
        var modes: [Environment.Durability] = [.writeAheadLog]
        if flags & 8 != 0 { modes.append(.durable) }
        for durability in modes {
            guard let environment = try? Environment(path: directory, configuration: .init(maxMapSize: 1 << 26, durability: durability)) else { return }
            // Whatever was replayed reads back and takes another commit.
            if let database = try? environment.openDatabase("data") {
                _ = try? environment.read { txn in try database.count(in: txn) }
                _ = try? environment.write { txn in try database.put(Array("after".utf8), for: Array("fuzz".utf8), in: txn) }
            }
            try? environment.close()
        }
    }
}
