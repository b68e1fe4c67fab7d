// A child process for the multi-process and crash tests. Each command opens the store at PATH,
// does its work and exits 0, or prints the problem to stderr and exits 1.
//
//   lmdb-child write PATH COUNT        writes keys k00000000… one transaction each
//   lmdb-child read PATH COUNT         reads until COUNT contiguous keys are visible
//   lmdb-child grow PATH MEBIBYTES     writes that much in 1 MiB values (forces map growth)
//   lmdb-child write-forever PATH      writes batches of 100 keys per transaction until killed,
//                                      printing each committed batch number on stdout
//   lmdb-child hold-read PATH          opens a read transaction, prints "holding", sleeps until killed
//   lmdb-child hold-write PATH         opens the store read-write without the log, prints "holding",
//                                      sleeps until killed
//   lmdb-child open PATH               opens the store and writes one key; prints "opened" or
//                                      "error CODE" (the LMDBError's Swift code name)
//   lmdb-child read-only PATH          opens the store read-only and prints "saw N" (contiguous
//                                      keys) or "error CODE"
//   lmdb-child wal-write PATH COUNT    opens with a write-ahead log (no checkpoint but the open's),
//                                      copies data.mdb as that checkpoint left it to
//                                      PATH.checkpoint, writes keys as
//                                      `write` does (each transaction also puts and deletes a
//                                      scratch key, and aborts a nested write), then exits
//                                      without closing: the commits are only in the log and the
//                                      page cache
//   lmdb-child wal-hold PATH           opens with a write-ahead log, prints "holding", sleeps until killed
//   lmdb-child wal-churn PATH COUNT    opens with a write-ahead log that grows in 16 KiB steps and
//                                      checkpoints every 3 commits (on its own thread, beside the
//                                      commits), writes COUNT transactions of `churnValue`s (each
//                                      third also deletes an earlier key) and two that put and
//                                      delete a scratch key, prints "wrote COUNT log
//                                      BYTES" (the log's size) and exits without closing (with a
//                                      fourth argument `close`: closes first)
import TimelineLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func key(_ index: Int) -> [UInt8] {
    let digits = String(index)
    return Array(("k" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits).utf8)
}

func value(_ index: Int) -> [UInt8] {
    Array("value of \(index) ".utf8) + [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 100)
}

/// `wal-churn`'s value of transaction `index`: 1 to 30,000 bytes, so that records are both
/// smaller and larger than the log's growth step.
func churnValue(_ index: Int) -> [UInt8] {
    [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: index &* 7_919 % 30_000 + 1)
}

func fail(_ message: String) -> Never {
    let text = Array("lmdb-child: \(message)\n".utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

/// Counts contiguous keys from k00000000 and checks their values; fails on a gap.
func contiguousCount(_ db: Database, _ txn: borrowing Transaction<some TransactionAccess>) throws -> Int {
    let total = try db.count(in: txn)
    var index = 0
    try db.withCursor(in: txn) { cursor in
        var entries = cursor.entries()
        while let entry = try entries.next() {
            guard Array(entry.key) == key(index), Array(entry.value) == value(index) else {
                fail("snapshot is not a contiguous prefix at \(index) (of \(total))")
            }
            index += 1
        }
    }
    return index
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fail("usage: lmdb-child write|read|grow|write-forever PATH [N]") }
let command = arguments[1], path = arguments[2]
let number = arguments.count > 3 ? Int(arguments[3]) ?? 0 : 0

if command == "read-only" {
    do {
        let env = try Environment(path: path, configuration: .init(readOnly: true))
        let db = try env.openDatabase("data", create: false)
        print("saw \(try env.read { txn in try contiguousCount(db, txn) })")
    } catch let error as LMDBError {
        print("error \(error.code)")
    } catch {
        fail("\(error)")
    }
    exit(0)
}

/// Copies the file at `source` to `target`.
func copyFile(_ source: String, _ target: String) {
    guard let input = fopen(source, "rb"), let output = fopen(target, "wb") else { fail("cannot copy \(source)") }
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&buffer, 1, buffer.count, input)
        if count == 0 { break }
        _ = fwrite(buffer, 1, count, output)
    }
    fclose(input)
    fclose(output)
}

if command == "wal-write" || command == "wal-hold" {
    do {
        // No checkpoint after the one at open: PATH.checkpoint stays the last checkpoint's data.mdb.
        var configuration = Environment.Configuration(durability: .writeAheadLog)
        configuration.checkpointCommits = .max
        let env = try Environment(path: path, configuration: configuration)
        let db = try env.openDatabase("data")
        if command == "wal-hold" {
            print("holding")
            fflush(nil)
            while true { sleep(60) }
        }
        copyFile(path + "/data.mdb", path + ".checkpoint")
        for index in 0..<number {
            try env.write { txn in
                // An empty database created inside a transaction: recovery must create it too.
                if index == 0 { _ = try txn.openDatabase("empty") }
                try db.put(value(index), for: key(index), in: txn)
                try db.put(value(index), for: Array("scratch".utf8), in: txn)
                try db.withCursor(in: txn) { cursor in
                    _ = try cursor.seek(Array("scratch".utf8))
                    try cursor.delete()
                }
                try? txn.nested { child in
                    try db.put(value(index), for: Array("aborted".utf8), in: child)
                    throw LMDBError(.retry, operation: "abort a nested write")
                }
            }
        }
        print("wrote \(number)")
        fflush(nil)
        exit(0)  // before `env` goes out of scope: no closing checkpoint
    } catch {
        fail("\(error)")
    }
    exit(0)
}

if command == "wal-churn" {
    do {
        var configuration = Environment.Configuration(durability: .writeAheadLog)
        configuration.checkpointCommits = 3
        setenv("TIMELINESTORE_WAL_GROWTH_STEP", "16384", 1)
        let env = try Environment(path: path, configuration: configuration)
        let db = try env.openDatabase("data")
        for index in 0..<number {
            try env.write { txn in
                try db.put(churnValue(index), for: key(index), in: txn)
                if index % 3 == 0 && index >= 10 { try db.delete(key(index - 10), in: txn) }
            }
        }
        // Two more commits, after any checkpoint the last ones began has had time to end: at most
        // the first can begin another, so the second is always in the log after the newest
        // checkpoint. (Under load, the loop's last commit could begin a checkpoint that ended
        // before the exit, leaving no record for a test's recovery to replay.) They leave the
        // entries as they were.
        usleep(100_000)
        try env.write { txn in try db.put(value(0), for: Array("scratch".utf8), in: txn) }
        try env.write { txn in _ = try db.delete(Array("scratch".utf8), in: txn) }
        var info = stat()
        stat(path + "/data.wal", &info)
        if arguments.count > 4 && arguments[4] == "close" { try env.close() }
        print("wrote \(number) log \(info.st_size)")
        fflush(nil)
        exit(0)  // without closing (unless asked): the last commits are only in the log and the page cache
    } catch {
        fail("\(error)")
    }
}

if command == "open" {
    do {
        let env = try Environment(path: path)
        let db = try env.openDatabase("data")
        try env.write { txn in try db.put(value(0), for: key(0), in: txn) }
        print("opened")
    } catch let error as LMDBError {
        print("error \(error.code)")
    } catch {
        fail("\(error)")
    }
    exit(0)
}

do {
    let env = try Environment(path: path, configuration: .init(mapSize: 1 << 20))
    let db = try env.openDatabase("data")
    switch command {
    case "write":
        for index in 0..<number {
            try env.write { txn in try db.put(value(index), for: key(index), in: txn) }
        }
    case "read":
        var seen = 0
        var spins = 0
        while seen < number {
            let count = try env.read { txn in try contiguousCount(db, txn) }
            if count < seen { fail("went backwards from \(seen) to \(count)") }
            seen = count
            spins += 1
            if spins > 2_000_000 { fail("gave up after seeing \(seen) of \(number)") }
        }
        print("saw \(seen)")
    case "grow":
        let big = [UInt8](repeating: 0xAB, count: 1 << 20)
        for index in 0..<number {
            try env.write { txn in try db.put(big, for: Array("big\(index)".utf8), in: txn) }
        }
        print("map \(env.mapSize)")
    case "write-forever":
        var batch = 0
        while true {
            try env.write { txn in
                for index in batch * 100..<(batch + 1) * 100 {
                    try db.put(value(index), for: key(index), in: txn)
                }
            }
            print(batch)
            fflush(nil)
            batch += 1
        }
    case "hold-write":
        print("holding")
        fflush(nil)
        while true { sleep(60) }
    case "hold-read":
        try env.read { _ in
            print("holding")
            fflush(nil)
            while true { sleep(60) }
        }
    default:
        fail("unknown command \(command)")
    }
} catch {
    fail("\(error)")
}
