/// Reads CBOR items from a buffer without copying it. Every length is checked against the bytes
/// actually left before it is used, so hostile input can only cause a thrown ``CBORError``.
struct CBORReader {
    /// The head of an item: its major type, additional information and argument.
    struct Head {
        var major: UInt8
        var additional: UInt8
        var argument: UInt64
        /// Where the item starts.
        var start: Int
        /// An indefinite-length item (or, for major type 7, the break stop code).
        var isIndefinite: Bool { additional == 31 }
    }

    let base: UnsafeRawBufferPointer
    var offset: Int
    let maxDepth: Int

    init(_ base: UnsafeRawBufferPointer, offset: Int = 0, maxDepth: Int) {
        self.base = base
        self.offset = offset
        self.maxDepth = min(maxDepth, CBORDecoder.maxDepthLimit)
    }

    var remaining: Int { Swift.max(0, base.count - offset) }
    var isAtEnd: Bool { offset >= base.count }

    @inline(__always)
    mutating func readHead() throws(CBORError) -> Head {
        guard offset < base.count else { throw CBORError(.truncated, at: offset) }
        let start = offset
        let initial = base[offset]
        let major = initial >> 5
        let additional = initial & 0x1F
        offset += 1
        let argument: UInt64
        switch additional {
        case 0..<24:
            argument = UInt64(additional)
        case 24:
            argument = UInt64(try readBigEndian(UInt8.self))
            if major == 7 && argument < 32 { throw CBORError(.invalidSimpleValue, at: start) }
        case 25:
            argument = UInt64(try readBigEndian(UInt16.self))
        case 26:
            argument = UInt64(try readBigEndian(UInt32.self))
        case 27:
            argument = try readBigEndian(UInt64.self)
        case 31:
            guard major >= 2 && major != 6 else { throw CBORError(.indefiniteLength, at: start) }
            argument = 0
        default:
            throw CBORError(.reservedAdditionalInformation, at: start)
        }
        return Head(major: major, additional: additional, argument: argument, start: start)
    }

    @inline(__always)
    mutating func readBigEndian<T: FixedWidthInteger>(_: T.Type) throws(CBORError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw CBORError(.truncated, at: offset) }
        let value = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(bigEndian: value)
    }

    /// The next `count` bytes, which must be present.
    @inline(__always)
    mutating func readBytes(_ count: UInt64, itemStart: Int) throws(CBORError) -> UnsafeRawBufferPointer {
        guard count <= UInt64(remaining) else { throw CBORError(.lengthExceedsInput, at: itemStart) }
        let slice = UnsafeRawBufferPointer(rebasing: base[offset..<offset + Int(count)])
        offset += Int(count)
        return slice
    }

    /// Checks that a container of `count` items (`perItem` bytes each at least) can fit.
    @inline(__always)
    func checkCount(_ count: UInt64, perItem: UInt64, itemStart: Int) throws(CBORError) {
        let (needed, overflow) = count.multipliedReportingOverflow(by: perItem)
        guard !overflow, needed <= UInt64(remaining) else { throw CBORError(.lengthExceedsInput, at: itemStart) }
    }

    /// Moves past one whole item, nested items included, checking that it is well-formed.
    mutating func skip(depth: Int = 0) throws(CBORError) {
        guard depth < maxDepth else { throw CBORError(.tooDeep, at: offset) }
        let head = try readHead()
        switch head.major {
        case 0, 1:
            break
        case 2, 3:
            if head.isIndefinite {
                while true {
                    let chunk = try readHead()
                    if chunk.major == 7 && chunk.isIndefinite { break }
                    guard chunk.major == head.major, !chunk.isIndefinite else { throw CBORError(.indefiniteLength, at: chunk.start) }
                    _ = try readBytes(chunk.argument, itemStart: chunk.start)
                }
            } else {
                _ = try readBytes(head.argument, itemStart: head.start)
            }
        case 4, 5:
            let perEntry: UInt64 = head.major == 5 ? 2 : 1
            if head.isIndefinite {
                while true {
                    guard offset < base.count else { throw CBORError(.truncated, at: offset) }
                    if base[offset] == 0xFF { offset += 1; break }
                    for _ in 0..<perEntry { try skip(depth: depth + 1) }
                }
            } else {
                try checkCount(head.argument, perItem: perEntry, itemStart: head.start)
                for _ in 0..<head.argument * perEntry { try skip(depth: depth + 1) }
            }
        case 6:
            try skip(depth: depth + 1)
        default:
            if head.isIndefinite { throw CBORError(.unexpectedBreak, at: head.start) }
        }
    }
}
