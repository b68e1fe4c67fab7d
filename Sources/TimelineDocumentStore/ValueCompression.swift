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
/// Reading is the same for both forms: every read expands a compressed record first (LZ4 expands
/// at a few GB/s). A store whose collections compress holds store format 2, which older code
/// refuses (`formatTooNew`) rather than misread. Records written before keep their form until
/// they are written again.
///
/// ```swift
/// let pages = try store.collection("pages", primaryKey: { (page: Page) in KeyBytes(page.id) },
///                                  compression: .lz4(minimumSize: 1_024))
/// ```
public struct ValueCompression: Sendable, Hashable {
    /// The smallest plain envelope, in bytes, that is tried; `nil` when nothing is compressed.
    public let minimumSize: Int?

    /// Records are stored as they are.
    public static let none = ValueCompression(minimumSize: nil)

    /// LZ4 for records of at least 1,024 bytes, kept where it saves space (see the type's
    /// description). Below 1 KB, English text shrinks by a tenth or less under LZ4.
    public static let lz4 = ValueCompression(minimumSize: 1_024)

    /// LZ4 for records of at least `minimumSize` bytes (at least 16), kept where it saves space.
    public static func lz4(minimumSize: Int) -> ValueCompression {
        ValueCompression(minimumSize: max(16, minimumSize))
    }

    private init(minimumSize: Int?) {
        self.minimumSize = minimumSize
    }
}

/// A ``ValueCompression`` bound to its environment's page size: the decision for each value.
struct CompressionRule: Sendable {
    let minimumSize: Int
    let pageSize: Int
    /// The largest leaf node (`me_nodemax`, as `Database.spaceUsage` computes it): a node of
    /// 8 header bytes, the key and the value that is larger goes to overflow pages.
    let nodeMax: Int

    init?(_ compression: ValueCompression, pageSize: Int) {
        guard let minimumSize = compression.minimumSize else { return nil }
        self.minimumSize = minimumSize
        self.pageSize = pageSize
        nodeMax = (((pageSize - 16) / 2) & ~1) - 2
    }

    /// What `plain` (a plain envelope under a key of `keyLength` bytes) is stored as: compressed
    /// when that saves at least an eighth of its footprint, else `plain` itself.
    func stored(_ plain: [UInt8], keyLength: Int) -> [UInt8] {
        guard plain.count >= minimumSize,
              let compressed = plain.withUnsafeBytes({ Envelope.compress($0) }),
              footprint(compressed.count, keyLength: keyLength) * 8 <= footprint(plain.count, keyLength: keyLength) * 7 else { return plain }
        return compressed
    }

    /// The bytes a value of `length` takes in the file: its length in a leaf page, or whole
    /// overflow pages (16-byte header, as `Database.spaceUsage` counts them).
    func footprint(_ length: Int, keyLength: Int) -> Int {
        8 + keyLength + length <= nodeMax ? length : ((16 - 1 + length) / pageSize + 1) * pageSize
    }
}
