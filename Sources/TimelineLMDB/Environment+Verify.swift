internal import CTimelineLMDB

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A structural fault in a data file's pages, found by `Environment.verifyPages()`.
public struct PageProblem: Sendable, Hashable, CustomStringConvertible {
    /// The page number where it was found.
    public var page: UInt64
    /// The database whose tree holds the page: a name, `(main)` or `(free list)`.
    public var database: String
    /// What is wrong.
    public var detail: String

    /// One line: where and what.
    public var description: String { "page \(page) of \(database): \(detail)" }
}

extension Environment {
    /// Walks every page reachable from one snapshot — the free list, the main database, every
    /// named database and their duplicate-value trees — reading the file itself (not through
    /// LMDB), and reports what is structurally wrong: page numbers past the end of the data,
    /// page headers that do not match their position, node offsets and key or value sizes that
    /// leave the page, overflow runs past the end, pages reached twice (cycles), trees deeper than
    /// their header says, and pages the free list offers for reuse while a tree still uses them.
    ///
    /// LMDB keeps no checksums and trusts its pages: a damaged page (a bad sector, a stray write)
    /// can make it read outside the file, which the kernel answers with SIGBUS. A store that
    /// passes this walk cannot lead LMDB outside its pages; `kvtool check`, `dump`, `load`,
    /// `migrate` and `backup --compact` run it first. It does not look inside values (records): that is
    /// `DocumentCollection.check`'s part.
    ///
    /// Safe on a live store: it holds a read transaction, so no page of its snapshot is reused
    /// while it reads.
    /// - Returns: at most `limit` problems; empty when every page is sound.
    /// - Complexity: O(pages in use); one `pread` per page.
    public func verifyPages(limit: Int = 100) throws -> [PageProblem] {
        try ensureOpen("verify the pages of \(path)")
        let fd = mdbFileDescriptor()
        // The walk starts from the meta page of its own snapshot: the one whose transaction id is
        // the reader's. Two commits between the snapshot and that read rewrite both meta pages;
        // then a fresh snapshot is taken.
        for _ in 0..<8 {
            let found: [PageProblem]? = try read { txn in
                guard let first = DataFilePreflight.readMeta(fd, offset: 0) else {
                    return [PageProblem(page: 0, database: "(meta)", detail: "the first meta page is unreadable")]
                }
                let second = DataFilePreflight.readMeta(fd, offset: first.pageSize)
                let (number, meta): (UInt64, DataFilePreflight.Meta?) = first.transactionID == UInt64(txn.id) ? (0, first)
                    : second?.transactionID == UInt64(txn.id) ? (1, second) : (0, nil)
                guard let meta else { return nil }
                var walker = PageWalker(fd: fd, meta: meta, limit: limit)
                walker.walkAll(metaPage: number)
                return walker.problems
            }
            if let found { return found }
        }
        throw LMDBError(.retry, operation: "verify the pages of \(path)", detail: "writers kept committing while the walk began")
    }

    /// LMDB's descriptor of `data.mdb` (`mdb_env_get_fd`), read with `pread` by the walker.
    private func mdbFileDescriptor() -> Int32 {
        var fd: mdb_filehandle_t = -1
        mdb_env_get_fd(handle, &fd)
        return fd
    }
}

/// Reads pages with `pread` and checks each against LMDB's page format (`mdb.c`, 0.9): a 16-byte
/// header — page number (u64), pad (u16), flags (u16), then lower and upper free-space bounds
/// (u16 each; for an overflow page, its page count as a u32) — then node offsets (u16) from byte
/// 16 up to `lower`, nodes from `upper` to the end. A node is data size (u32, or for a branch the
/// child page number with the flags' u16 as its high bits), flags (u16), key size (u16), key, data.
struct PageWalker {
    static let branch: UInt16 = 0x01, leaf: UInt16 = 0x02, overflow: UInt16 = 0x04, leaf2: UInt16 = 0x20, subpage: UInt16 = 0x40
    static let bigData: UInt16 = 0x01, subData: UInt16 = 0x02, dupData: UInt16 = 0x04
    static let invalidPage = UInt64.max
    static let maxDepth = 32

    let fd: Int32
    let pageSize: Int
    /// The first page number past the data of the snapshot.
    let endPage: UInt64
    let limit: Int
    var problems: [PageProblem] = []
    /// One bit per page: reached already.
    var seen: [UInt64]
    /// The pages the free list offers for reuse.
    var freePages: [UInt64] = []

    init(fd: Int32, meta: DataFilePreflight.Meta, limit: Int) {
        self.fd = fd
        self.pageSize = meta.pageSize
        self.endPage = meta.lastPage &+ 1
        self.limit = max(1, limit)
        seen = Array(repeating: 0, count: Int(endPage / 64) + 1)
    }

    var full: Bool { problems.count >= limit }

    mutating func report(_ page: UInt64, _ database: String, _ detail: String) {
        if !full { problems.append(PageProblem(page: page, database: database, detail: detail)) }
    }

    /// The free list, then the main database and every named database in it.
    mutating func walkAll(metaPage: UInt64) {
        guard let page = read(page: metaPage) else { return report(metaPage, "(meta)", "cannot be read") }
        walkAll(meta: page)
    }

    /// The same, from the meta page's bytes `page` (one not in the file: a checkpoint's saved meta
    /// page, say).
    mutating func walkAll(meta page: [UInt8]) {
        // Both trees' headers sit in the meta page: free database at byte 40, main at 88.
        walk(tree: Self.database(page, at: 40), name: Self.freeList)
        walk(tree: Self.database(page, at: 88), name: "(main)", namedDatabases: true)
        // A page the free list offers must be in no tree: a writer would reuse it while it is in
        // use (LMDB then asserts, or overwrites live data).
        var listed = Set<UInt64>()
        for page in freePages where !full {
            if page < 2 || page >= endPage {
                report(page, Self.freeList, "lists page \(page), outside the data pages 2..<\(endPage)")
            } else if !listed.insert(page).inserted {
                report(page, Self.freeList, "lists page \(page) twice")
            } else if seen[Int(page / 64)] & (1 << (page % 64)) != 0 {
                report(page, Self.freeList, "lists page \(page) as free, but a tree uses it")
            }
        }
    }

    static let freeList = "(free list)"

    /// Reads a free-list value — a page count, then that many page numbers (u64 each) — into
    /// ``freePages``; `bytes` is the value, inline or read from its overflow pages.
    mutating func collectFreePages(_ bytes: ArraySlice<UInt8>, at page: UInt64) {
        let words = bytes.count / 8
        let count = words > 0 ? Int(clamping: bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }) : -1
        guard bytes.count % 8 == 0, count == words - 1 else {
            return report(page, Self.freeList, "an entry of \(bytes.count) bytes is not a page count and its pages")
        }
        bytes.withUnsafeBytes { raw in
            for index in 1..<max(words, 1) { freePages.append(raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) }
        }
    }

    /// A database header (`MDB_db`, 48 bytes) in `bytes` at `offset`: flags, depth and root page.
    static func database(_ bytes: [UInt8], at offset: Int) -> (flags: UInt16, depth: Int, root: UInt64, keySize: Int) {
        (word(bytes, offset + 4, UInt16.self), Int(word(bytes, offset + 6, UInt16.self)), word(bytes, offset + 40, UInt64.self),
         Int(word(bytes, offset, UInt32.self)))
    }

    static func word<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, _: T.Type) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    func read(page: UInt64, count: Int = 1) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: pageSize * count)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(page) * off_t(pageSize)) }
        return got == bytes.count ? bytes : nil
    }

    /// Marks `page` reached; false (and a problem) when it was reached before.
    mutating func claim(_ page: UInt64, _ name: String) -> Bool {
        let (word, bit) = (Int(page / 64), page % 64)
        if seen[word] & (1 << bit) != 0 {
            report(page, name, "reached twice: two trees share it, or a tree points back into itself")
            return false
        }
        seen[word] |= 1 << bit
        return true
    }

    /// Checks a page number before it is read.
    mutating func valid(_ page: UInt64, _ name: String, from parent: UInt64) -> Bool {
        if page < 2 || page >= endPage {
            report(parent, name, "points at page \(page), outside the data pages 2..<\(endPage)")
            return false
        }
        return true
    }

    mutating func walk(tree: (flags: UInt16, depth: Int, root: UInt64, keySize: Int), name: String, namedDatabases: Bool = false) {
        if tree.root == Self.invalidPage { return }
        if tree.depth < 1 || tree.depth > Self.maxDepth {
            report(tree.root, name, "the tree's depth \(tree.depth) is impossible")
            return
        }
        guard valid(tree.root, name, from: tree.root) else { return }
        walk(page: tree.root, name: name, level: 1, depth: tree.depth, keySize: tree.keySize, namedDatabases: namedDatabases)
    }

    mutating func walk(page number: UInt64, name: String, level: Int, depth: Int, keySize: Int, namedDatabases: Bool) {
        if full || !claim(number, name) { return }
        guard let page = read(page: number) else { return report(number, name, "cannot be read: the file ends before it") }
        let header = Self.word(page, 0, UInt64.self), flags = Self.word(page, 10, UInt16.self)
        if header != number { return report(number, name, "its header says page \(header)") }
        let isLeaf = flags & Self.leaf != 0, isBranch = flags & Self.branch != 0
        guard isLeaf != isBranch else { return report(number, name, "is neither a branch nor a leaf page (flags \(flags))") }
        if isLeaf != (level == depth) {
            return report(number, name, "a \(isLeaf ? "leaf" : "branch") page at level \(level) of a tree \(depth) deep")
        }
        guard let nodes = nodeOffsets(page, pageSize: pageSize, number: number, name: name, fixedKeySize: flags & Self.leaf2 != 0 ? keySize : nil)
        else { return }
        for offset in nodes {
            if full { return }
            let size = UInt64(Self.word(page, offset, UInt32.self)), nodeFlags = Self.word(page, offset + 4, UInt16.self)
            let dataStart = offset + 8 + Int(Self.word(page, offset + 6, UInt16.self))
            if isBranch {
                let child = size | UInt64(nodeFlags) << 32
                guard valid(child, name, from: number) else { continue }
                walk(page: child, name: name, level: level + 1, depth: depth, keySize: keySize, namedDatabases: namedDatabases)
                continue
            }
            let dataLength = Int(size)
            if nodeFlags & Self.bigData != 0 {
                guard dataStart + 8 <= pageSize else { return report(number, name, "an overflow reference at byte \(offset) runs past the page") }
                let first = Self.word(page, dataStart, UInt64.self)
                if checkOverflow(first, length: dataLength, name: name, from: number), name == Self.freeList,
                   let run = read(page: first, count: (16 + dataLength + pageSize - 1) / pageSize) {
                    collectFreePages(run[16..<16 + dataLength], at: first)
                }
                continue
            }
            guard dataStart + dataLength <= pageSize else { return report(number, name, "a value at byte \(offset) runs past the page") }
            if name == Self.freeList { collectFreePages(page[dataStart..<dataStart + dataLength], at: number) }
            if nodeFlags & Self.subData != 0 {
                guard dataLength == 48 else { return report(number, name, "a database header of \(dataLength) bytes, not 48") }
                let data = Array(page[dataStart..<dataStart + 48])
                let child = Self.database(data, at: 0)
                let childName = namedDatabases && nodeFlags & Self.dupData == 0
                    ? String(decoding: page[(offset + 8)..<dataStart], as: UTF8.self) : name + " (duplicates)"
                walk(tree: child, name: childName)
            } else if nodeFlags & Self.dupData != 0 {
                // A sub-page of duplicate values, inside the node.
                let sub = Array(page[dataStart..<dataStart + dataLength])
                guard sub.count >= 16, Self.word(sub, 10, UInt16.self) & Self.subpage != 0 else {
                    return report(number, name, "a duplicate-values sub-page at byte \(offset) is malformed")
                }
                let subFlags = Self.word(sub, 10, UInt16.self)
                _ = nodeOffsets(sub, pageSize: sub.count, number: number, name: name, fixedKeySize: subFlags & Self.leaf2 != 0 ? keySize : nil)
            }
        }
    }

    /// The node offsets of a page, each checked to leave room for a node header; `nil` (and a
    /// problem) when the page's bounds are impossible. For a page of fixed-size keys (`LEAF2`),
    /// no offsets: only that the keys fit.
    mutating func nodeOffsets(_ page: [UInt8], pageSize: Int, number: UInt64, name: String, fixedKeySize: Int?) -> [Int]? {
        let lower = Int(Self.word(page, 12, UInt16.self)), upper = Int(Self.word(page, 14, UInt16.self))
        guard lower >= 16, lower <= upper, upper <= pageSize, (lower - 16) % 2 == 0 else {
            report(number, name, "free-space bounds \(lower)..\(upper) are impossible")
            return nil
        }
        let count = (lower - 16) / 2
        if let fixedKeySize {
            if 16 + count * fixedKeySize > pageSize { report(number, name, "\(count) keys of \(fixedKeySize) bytes do not fit") }
            return []
        }
        var offsets: [Int] = []
        offsets.reserveCapacity(count)
        for index in 0..<count {
            let offset = Int(Self.word(page, 16 + 2 * index, UInt16.self))
            guard offset >= upper, offset + 8 <= pageSize else {
                report(number, name, "node \(index) at byte \(offset) lies outside the page's nodes (\(upper)..<\(pageSize))")
                return nil
            }
            guard offset + 8 + Int(Self.word(page, offset + 6, UInt16.self)) <= pageSize else {
                report(number, name, "the key of node \(index) at byte \(offset) runs past the page")
                return nil
            }
            offsets.append(offset)
        }
        return offsets
    }

    /// Checks a run of overflow pages holding a `length`-byte value; whether it is sound.
    @discardableResult
    mutating func checkOverflow(_ first: UInt64, length: Int, name: String, from parent: UInt64) -> Bool {
        guard valid(first, name, from: parent), claim(first, name) else { return false }
        guard let page = read(page: first) else { report(first, name, "cannot be read: the file ends before it"); return false }
        let header = Self.word(page, 0, UInt64.self), flags = Self.word(page, 10, UInt16.self)
        let count = UInt64(Self.word(page, 12, UInt32.self))
        guard header == first, flags & Self.overflow != 0 else { report(first, name, "is not the overflow page its parent \(parent) says"); return false }
        guard count >= 1, first + count <= endPage else { report(first, name, "an overflow run of \(count) pages passes the end of the data"); return false }
        guard length <= Int(count) * pageSize - 16 else { report(first, name, "a value of \(length) bytes does not fit its \(count) overflow pages"); return false }
        for page in (first + 1)..<(first + count) where !claim(page, name) { return false }
        return true
    }
}
