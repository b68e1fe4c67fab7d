internal import TimelineLMDB

/// Whether a collection stores its large records compressed, and from what size.
///
/// A record whose plain envelope is at least ``minimumSize`` bytes is compressed with LZ4 (a
/// compressed ``Envelope``, format 2) and stored so **only when that saves file space**: at least
/// an eighth of what the value takes in the file, counted as LMDB lays it out — its bytes when it
/// fits in a leaf page beside others, whole pages when it is too large for one (an *overflow*
/// value). So a 3.5 KB value that compresses to 2.5 KB stays plain (it takes one 4 KiB page
/// either way, and plain it reads without expanding), while one that compresses to 1.9 KB moves
/// into a leaf page and one of 40 KB frees four of its ten pages.
///
/// Reading is the same for both forms: every read expands a compressed record first — ~4.5
/// instructions per byte of English-like text, ~1 µs per 2 KB; a plain record is read in place.
/// A store whose collections compress holds store format 2, which older code refuses
/// (`formatTooNew`) rather than misread. Records written before keep their form until they are
/// written again.
///
/// ```swift
/// let pages = try store.collection("pages", primaryKey: { (page: Page) in KeyBytes(page.id) },
///                                  compression: .lz4)
/// ```
public struct ValueCompression: Sendable, Hashable {
    /// The smallest plain envelope, in bytes, that is tried; `nil` when nothing is compressed.
    public let minimumSize: Int?

    /// Records are stored as they are.
    public static let none = ValueCompression(minimumSize: nil)

    /// LZ4 for records of at least 2,000 bytes, kept where it saves space (see the type's
    /// description): about the size from which LMDB stores a value on pages of its own (with
    /// 4 KiB pages and keys of up to ~30 bytes), where compression saves the most file per byte a
    /// read then has to expand. Smaller records, which share leaf pages, stay plain: LZ4 shrinks
    /// 1–2 KB of English by a quarter at most, and expanding costs a read ~4.5 instructions per
    /// byte (`Docs/benchmarks.md`, "Large values compressed").
    public static let lz4 = ValueCompression(minimumSize: 2_000)

    /// LZ4 for records of at least `minimumSize` bytes (at least 16), kept where it saves space.
    public static func lz4(minimumSize: Int) -> ValueCompression {
        ValueCompression(minimumSize: max(16, minimumSize))
    }

    private init(minimumSize: Int?) {
        self.minimumSize = minimumSize
    }
}

/// A ``ValueCompression`` bound to its environment's page layout: the decision for each value.
struct CompressionRule: Sendable {
    let minimumSize: Int
    /// Where LMDB puts a value of a given size: a leaf page, or overflow pages of its own.
    let layout: PageLayout

    init?(_ compression: ValueCompression, pageSize: Int) {
        guard let minimumSize = compression.minimumSize else { return nil }
        self.minimumSize = minimumSize
        layout = PageLayout(pageSize: pageSize)
    }

    /// What `plain` (a plain envelope under a key of `keyLength` bytes) is stored as: compressed
    /// when that saves at least an eighth of its footprint, else `plain` itself.
    func stored(_ plain: [UInt8], keyLength: Int) -> [UInt8] {
        guard plain.count >= minimumSize else { return plain }
        // LZ4 gives up as soon as its output passes the limit, so a value that would not save
        // enough costs only part of a compression.
        let limit = largestSaving(plain.count, keyLength: keyLength)
        return plain.withUnsafeBytes { Envelope.compress($0, limit: limit) } ?? plain
    }

    /// The largest stored length whose footprint is at most seven eighths of a `length`-byte
    /// value's: in a leaf page, seven eighths of its bytes; for an overflow value, the most a
    /// leaf holds or the most that fits in seven eighths of its pages, whichever is more.
    func largestSaving(_ length: Int, keyLength: Int) -> Int {
        if layout.fitsInLeaf(key: keyLength, value: length) { return length * 7 / 8 }
        // A value of `k · pageSize − 16` bytes or fewer fits in `k` overflow pages.
        let pages = layout.overflowPages(length) * 7 / 8
        return max(layout.nodeMax - 8 - keyLength, pages * layout.pageSize - PageLayout.pageHeader)
    }
}
