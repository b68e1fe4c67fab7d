#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A quick walk over a record in the compact form (``CBOREncoder/fieldIDs``): a map whose keys
/// are one-byte field ids (0–23) in increasing order. It finds a field by measuring each value it
/// passes from its head, and reads the common forms of a value in place — where ``CBORMapView``
/// finds a field through a table of names and reads it through ``CBORItemReader``. The
/// timeline's record views read through it: a page of 100 turns with four fields read takes
/// about 0.39 times the instructions it took through ``CBORMapView`` alone (`Docs/benchmarks.md`,
/// "Turn views through a quick walk" and "Common forms by compares alone").
///
/// ```swift
/// var scan = CBORCompactScan(bytes)
/// switch scan.date(field: 3) {                  // field id 3, read as a date
/// case .value(let date): …
/// case .absent: …                               // no such field
/// case .undecided: …                            // read it through CBORMapView
/// }
/// let at = scan.lookup(4)                       // or: where field 4's value starts
/// if at >= 0, let text = scan.text(at: at) { … }
/// ```
///
/// A typed read (``date(field:)`` and the others) reads the value where the walk finds it, its
/// head once; a look-up and a reader measure it twice, which is why the views read typed.
///
/// It answers only what it can answer for certain. A key of another form (a name, a larger id),
/// ids out of order or repeated, a value it cannot measure from its head (a non-empty array or
/// map, a tag of a tag, an indefinite length) or bytes past the end make a look-up
/// ``undecided``, and its readers return `nil` for a value of any form but the common ones. The
/// caller then reads that field through ``CBORMapView``, which reads every form and throws the
/// errors damaged bytes deserve; so for every input the two ways give the same answer. A field
/// is ``absent`` only when the walk has passed where it would stand and the rest of the map
/// holds larger ids alone. Every read is bounds-checked. Like a view, a scan is valid only while
/// its buffer is.
public struct CBORCompactScan {
    /// ``lookup(_:)``'s answer for a field the map has no entry for.
    public static let absent = -1
    /// ``lookup(_:)``'s answer when the walk cannot decide: read the field the general way.
    public static let undecided = -2

    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline let end: Int
    /// Where the map's first key starts, and how many entries it has.
    @usableFromInline let first: Int32, count: Int32
    /// Where the next key starts, and how many entries are left from it on.
    @usableFromInline var position: Int32, remaining: Int32
    /// The ids below this one are behind the walk: a look-up of one starts it again from the
    /// first key.
    @usableFromInline var next: Int32 = 0
    /// The walk met something it cannot decide: look-ups from `next` on are ``undecided``.
    @usableFromInline var stuck = false
    /// The entries from `position` on are known to have increasing ids and values this scan
    /// can pass: an id the walk has not reached and passes is absent.
    @usableFromInline var restAscends = false
    /// Whether the buffer starts with a map this scan reads; when not, every look-up is
    /// ``undecided``.
    public let startsWithMap: Bool

    /// A scan of the map `buffer` starts with. One that does not start with a map of a definite
    /// length below 65,536 entries, which the buffer has room for, decides nothing (``startsWithMap`` is `false`: let
    /// ``CBORMapView`` say what the buffer holds).
    @inlinable @inline(__always)
    public init(_ buffer: UnsafeRawBufferPointer) {
        base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        end = buffer.count
        var first: Int32 = 0, count: Int32 = 0
        if buffer.baseAddress != nil, end > 0, end <= Int(Int32.max) {
            let initial = base.load(as: UInt8.self)
            switch initial {
            case 0xA0...0xB7:
                (first, count) = (1, Int32(initial & 0x1F))
            case 0xB8 where end > 1:
                (first, count) = (2, Int32(base.load(fromByteOffset: 1, as: UInt8.self)))
            case 0xB9 where end > 2:
                (first, count) = (3, Int32(UInt16(bigEndian: base.loadUnaligned(fromByteOffset: 1, as: UInt16.self))))
            default:
                break
            }
        }
        // Every entry takes two bytes at least: a count past that is refused, as the map view
        // refuses it.
        if Int(count) * 2 > end - Int(first) { first = 0 }
        startsWithMap = first > 0
        stuck = first == 0
        (self.first, self.count, position, remaining) = (first, count, first, count)
    }

    /// Where the value of field `id` (0–23) starts; ``absent`` when the map has no entry for it;
    /// ``undecided`` when the walk cannot tell. Fields looked up in the order they are stored
    /// cost one walk in all; one behind the walk starts it again.
    ///
    /// The arithmetic here wraps rather than checks: every offset is below `end`, which is at
    /// most `Int32.max`, and a step adds at most a head's 9 bytes or a length checked against
    /// what is left.
    @inlinable @inline(__always)
    public mutating func lookup(_ id: Int) -> Int {
        if let start = quickWalk(to: id, { base, start, end in Self.skipCommonForm(start, base: base, end: end).map { (start, $0) } }) {
            return start
        }
        return walk(to: id)
    }

    /// The common case of a look-up, walked in locals: the entries from where the walk stands up
    /// to field `id` have increasing ids and values of the forms `skipCommonForm` passes, and
    /// `parse` reads the field's value and says where it ends. The state is stored only when
    /// the field is read; anything else — an id passed without an entry, another form, the end —
    /// is `nil`, and ``walk(to:)`` starts from the same state. Nothing else needs checking: a walk
    /// that got stuck stands at an entry whose id is below `next` or not an id at all, and one
    /// over a buffer that is no map has no entries left. (A page of 100 turns through views:
    /// 114 k instructions by the full walk, 104 k through look-ups and then readers, 95 k through
    /// typed reads; `Docs/benchmarks.md`, "Common forms by compares alone".)
    @inlinable @inline(__always)
    mutating func quickWalk<Value>(to id: Int, _ parse: (UnsafeRawPointer, _ start: Int, _ end: Int) -> (value: Value, end: Int)?) -> Value? {
        var (at, left, floor) = (Int(position), Int(remaining), Int(next))
        while id < 24, left > 0, at < end {
            let key = Int(base.load(fromByteOffset: at, as: UInt8.self))
            guard key >= floor, key <= id else { return nil }
            if key == id {
                guard let (value, after) = parse(base, at &+ 1, end) else { return nil }
                (position, remaining, next) = (Int32(truncatingIfNeeded: after), Int32(truncatingIfNeeded: left &- 1), Int32(truncatingIfNeeded: key &+ 1))
                return value
            }
            guard let after = Self.skipCommonForm(at &+ 1, base: base, end: end) else { return nil }
            (left, floor, at) = (left &- 1, key &+ 1, after)
        }
        return nil
    }

    /// ``lookup(_:)`` by walking the entries from where the walk stands (or from the first, for
    /// a field behind it).
    @inlinable
    mutating func walk(to id: Int) -> Int {
        guard id >= 0, id < 24, startsWithMap else { return Self.undecided }
        if id < next { (position, remaining, next, stuck, restAscends) = (first, count, 0, false, false) }
        if stuck { return Self.undecided }
        let (base, end) = (base, end)
        while remaining > 0 {
            let at = Int(position)
            guard at < end, case let key = Int(base.load(fromByteOffset: at, as: UInt8.self)), key < 24, key >= next else {
                stuck = true
                return Self.undecided
            }
            if key > id {
                // Passed without an entry: absent, once the rest of the map is known to hold
                // only larger ids (a record whose ids are out of order is read the general way,
                // which finds an entry wherever it stands).
                next = Int32(truncatingIfNeeded: key)
                if !restAscends { restAscends = ascends(from: at, entries: Int(remaining), above: key &- 1) }
                return restAscends ? Self.absent : Self.undecided
            }
            next = Int32(truncatingIfNeeded: key &+ 1)
            remaining &-= 1
            let value = at &+ 1
            guard let after = Self.skipCommonForm(value, base: base, end: end) ?? skipAnyForm(value) else {
                stuck = true
                return key == id ? value : Self.undecided
            }
            position = Int32(truncatingIfNeeded: after)
            if key == id { return value }
        }
        next = 24
        return Self.absent
    }

    /// What a typed read of a field — ``textBytes(field:)``, ``text(field:)``, ``date(field:)``,
    /// ``uuid(field:)``, ``optionalInt(field:)`` — found.
    public enum Reading<Value> {
        /// The field's value, of the form the reader reads.
        case value(Value)
        /// The map has no entry for the field (``lookup(_:)`` says ``absent``).
        case absent
        /// The walk cannot decide, or the value has another form: read the field the general way.
        case undecided

        /// The reading of `transform`'s value: a value it makes nothing of (`nil`) is
        /// ``undecided``, for the general way to read.
        @inlinable @inline(__always)
        public func map<Other>(_ transform: (Value) -> Other?) -> Reading<Other> {
            switch self {
            case .value(let value): transform(value).map { .value($0) } ?? .undecided
            case .absent: .absent
            case .undecided: .undecided
            }
        }
    }

    /// Field `id` read in one step where its value has the form `parse` reads: the entries up to
    /// it walked as ``lookup(_:)`` walks them in its common case, and `parse` measuring the value
    /// it reads, so the value's head is read once — a look-up and then a reader read it twice,
    /// ~35 more instructions a turn for four fields (`Docs/benchmarks.md`, "Common forms by
    /// compares alone"). Anything else is the full walk of ``lookup(_:)`` and then `reader`,
    /// from the same state.
    @inlinable @inline(__always)
    mutating func read<Value>(_ id: Int, _ parse: (UnsafeRawPointer, _ start: Int, _ end: Int) -> (value: Value, end: Int)?,
                              else reader: (borrowing Self, Int) -> Value?) -> Reading<Value> {
        if let value = quickWalk(to: id, parse) { return .value(value) }
        let start = walk(to: id)
        if start == Self.absent { return .absent }
        if start >= 0, let value = reader(self, start) { return .value(value) }
        return .undecided
    }

    /// Field `id`'s text as its UTF-8 bytes (not checked), as ``textBytes(at:)`` reads it.
    @inlinable @inline(__always)
    public mutating func textBytes(field id: Int) -> Reading<UnsafeRawBufferPointer> {
        read(id, Self.textBytesValue) { $0.textBytes(at: $1) }
    }

    /// Field `id`'s text as a `String`, as ``text(at:)`` reads it: a text that is not valid UTF-8
    /// is ``Reading/undecided``.
    public mutating func text(field id: Int) -> Reading<String> {
        textBytes(field: id).map(CBORText.string)
    }

    /// Field `id`'s date, as ``date(at:)`` reads it.
    @inlinable @inline(__always)
    public mutating func date(field id: Int) -> Reading<Date> {
        read(id, Self.dateValue) { $0.date(at: $1) }
    }

    /// Field `id`'s UUID, as ``uuid(at:)`` reads it.
    @inlinable @inline(__always)
    public mutating func uuid(field id: Int) -> Reading<UUID> {
        read(id, Self.uuidValue) { $0.uuid(at: $1) }
    }

    /// Field `id`'s integer, or `nil` for `null`, as ``optionalInt(at:)`` reads it.
    @inlinable @inline(__always)
    public mutating func optionalInt(field id: Int) -> Reading<Int?> {
        read(id, Self.optionalIntValue) { $0.optionalInt(at: $1) }
    }

    /// A text of up to 65,535 bytes at `start`, by compares alone, and where it ends.
    @inlinable @inline(__always)
    static func textBytesValue(_ base: UnsafeRawPointer, _ start: Int, _ end: Int) -> (value: UnsafeRawBufferPointer, end: Int)? {
        guard start >= 0, start < end else { return nil }
        let initial = base.load(fromByteOffset: start, as: UInt8.self), room = end &- start
        let head: Int, count: Int
        switch initial {
        case 0x60..<0x78: (head, count) = (1, Int(initial &- 0x60))
        case 0x78 where room >= 2: (head, count) = (2, Int(base.load(fromByteOffset: start &+ 1, as: UInt8.self)))
        case 0x79 where room >= 3: (head, count) = (3, Int(UInt16(bigEndian: base.loadUnaligned(fromByteOffset: start &+ 1, as: UInt16.self))))
        default: return nil
        }
        guard count <= room &- head else { return nil }
        return (UnsafeRawBufferPointer(start: base + (start &+ head), count: count), start &+ head &+ count)
    }

    /// The encoder's date at `start` — tag 1 and a double that is not NaN — and where it ends.
    @inlinable @inline(__always)
    static func dateValue(_ base: UnsafeRawPointer, _ start: Int, _ end: Int) -> (value: Date, end: Int)? {
        guard start >= 0, end &- start >= 10, base.load(fromByteOffset: start, as: UInt8.self) == 0xC1,
              base.load(fromByteOffset: start &+ 1, as: UInt8.self) == 0xFB else { return nil }
        let seconds = Double(bitPattern: UInt64(bigEndian: base.loadUnaligned(fromByteOffset: start &+ 2, as: UInt64.self)))
        return seconds.isNaN ? nil : (Date(timeIntervalSince1970: seconds), start &+ 10)
    }

    /// The encoder's UUID at `start` — tag 37 and 16 bytes — and where it ends.
    @inlinable @inline(__always)
    static func uuidValue(_ base: UnsafeRawPointer, _ start: Int, _ end: Int) -> (value: UUID, end: Int)? {
        guard start >= 0, end &- start >= 19, base.load(fromByteOffset: start, as: UInt8.self) == 0xD8,
              base.loadUnaligned(fromByteOffset: start &+ 1, as: UInt16.self) == UInt16(bigEndian: 0x2550) else { return nil }
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + (start &+ 3), count: 16)) }
        return (UUID(uuid: uuid), start &+ 19)
    }

    /// An integer below 65,536 or `null` at `start`, by compares alone, and where it ends.
    @inlinable @inline(__always)
    static func optionalIntValue(_ base: UnsafeRawPointer, _ start: Int, _ end: Int) -> (value: Int?, end: Int)? {
        guard start >= 0, start < end else { return nil }
        let initial = base.load(fromByteOffset: start, as: UInt8.self)
        switch initial {
        case 0x00..<0x18: return (Int(initial), start &+ 1)
        case 0x18 where end &- start >= 2: return (Int(base.load(fromByteOffset: start &+ 1, as: UInt8.self)), start &+ 2)
        case 0x19 where end &- start >= 3: return (Int(UInt16(bigEndian: base.loadUnaligned(fromByteOffset: start &+ 1, as: UInt16.self))), start &+ 3)
        case 0xF6, 0xF7: return (nil, start &+ 1)
        default: return nil
        }
    }

    /// Whether the `entries` entries from `start` on have ids above `floor`, in increasing
    /// order, and values this scan can pass.
    @inlinable
    func ascends(from start: Int, entries: Int, above floor: Int) -> Bool {
        var at = start, floor = floor
        for _ in 0..<entries {
            guard at < end, case let key = Int(base.load(fromByteOffset: at, as: UInt8.self)), key < 24, key > floor,
                  let after = skip(at &+ 1) else { return false }
            (at, floor) = (after, key)
        }
        return true
    }

    /// The end of the value at `start` when its head says it: a number, a simple value, a float,
    /// a definite-length string, an empty array or map, any of these after one tag; else `nil`.
    @inlinable @inline(__always)
    func skip(_ start: Int) -> Int? {
        Self.skipCommonForm(start, base: base, end: end) ?? skipAnyForm(start)
    }

    /// ``skip(_:)`` for the forms a timeline record's fields take — a number, a text of up to
    /// 65,535 bytes, a date as a double, a UUID — by compares alone; `nil` for any other form
    /// (and a value cut short), which ``skipAnyForm(_:)`` reads. Through the general reading of
    /// a head, with its two jump tables, passing a field took ~40 instructions. Static, so that
    /// the walk in a mutating look-up does not copy the scan to call it.
    @inlinable @inline(__always)
    static func skipCommonForm(_ start: Int, base: UnsafeRawPointer, end: Int) -> Int? {
        guard start < end else { return nil }
        let initial = base.load(fromByteOffset: start, as: UInt8.self)
        let room = end &- start
        let size: Int
        switch initial {
        case 0x00..<0x18: return start &+ 1
        case 0x18...0x1B: size = 1 &+ (1 &<< Int(initial &- 0x18))
        case 0x60..<0x78: size = 1 &+ Int(initial &- 0x60)
        case 0x78 where room >= 2: size = 2 &+ Int(base.load(fromByteOffset: start &+ 1, as: UInt8.self))
        case 0x79 where room >= 3: size = 3 &+ Int(UInt16(bigEndian: base.loadUnaligned(fromByteOffset: start &+ 1, as: UInt16.self)))
        case 0xC1 where room >= 10 && base.load(fromByteOffset: start &+ 1, as: UInt8.self) == 0xFB: return start &+ 10
        case 0xD8 where room >= 19 && base.loadUnaligned(fromByteOffset: start &+ 1, as: UInt16.self) == UInt16(bigEndian: 0x2550): return start &+ 19
        default: return nil
        }
        return room >= size ? start &+ size : nil
    }

    /// ``skip(_:)`` for every form it passes.
    @inlinable
    func skipAnyForm(_ start: Int) -> Int? {
        var at = start
        guard at < end else { return nil }
        var initial = base.load(fromByteOffset: at, as: UInt8.self)
        if initial >= 0xC0, initial <= 0xD8 {
            at &+= initial == 0xD8 ? 2 : 1
            guard at < end else { return nil }
            initial = base.load(fromByteOffset: at, as: UInt8.self)
        }
        guard let (argument, next) = head(initial, at: at) else { return nil }
        switch initial >> 5 {
        case 0, 1:
            return next
        case 7:
            // A simple value in a second byte is one of 32…255 (RFC 8949 §3.3).
            return initial == 0xF8 && argument < 32 ? nil : next
        case 2, 3:
            return argument <= UInt64(truncatingIfNeeded: end &- next) ? next &+ Int(truncatingIfNeeded: argument) : nil
        case 4, 5:
            return initial & 0x1F == 0 ? next : nil
        default:
            return nil
        }
    }

    /// The argument of the head whose initial byte `initial` is at `at` (below `end`), and
    /// where the head ends — at most `end`; `nil` for an indefinite length, a reserved form or a
    /// head cut short.
    @inlinable @inline(__always)
    func head(_ initial: UInt8, at: Int) -> (argument: UInt64, next: Int)? {
        let info = initial & 0x1F
        if info < 24 { return (UInt64(info), at &+ 1) }
        let room = end &- at &- 1
        switch info {
        case 24 where room >= 1: return (UInt64(base.load(fromByteOffset: at &+ 1, as: UInt8.self)), at &+ 2)
        case 25 where room >= 2: return (UInt64(UInt16(bigEndian: base.loadUnaligned(fromByteOffset: at &+ 1, as: UInt16.self))), at &+ 3)
        case 26 where room >= 4: return (UInt64(UInt32(bigEndian: base.loadUnaligned(fromByteOffset: at &+ 1, as: UInt32.self))), at &+ 5)
        case 27 where room >= 8: return (UInt64(bigEndian: base.loadUnaligned(fromByteOffset: at &+ 1, as: UInt64.self)), at &+ 9)
        default: return nil
        }
    }

    /// The bytes of the text string at `offset` (its UTF-8, not checked), or `nil` when the
    /// value there is not a definite-length text string.
    @inlinable @inline(__always)
    public func textBytes(at offset: Int) -> UnsafeRawBufferPointer? {
        // A text of up to 65,535 bytes by compares alone, as in `skipCommonForm`.
        if let (bytes, _) = Self.textBytesValue(base, offset, end) { return bytes }
        guard offset >= 0, offset < end, case let initial = base.load(fromByteOffset: offset, as: UInt8.self), initial >> 5 == 3,
              let (length, next) = head(initial, at: offset), length <= UInt64(truncatingIfNeeded: end &- next) else { return nil }
        return UnsafeRawBufferPointer(start: base + next, count: Int(length))
    }

    /// The text string at `offset` as a `String`, or `nil` when the value there is not a
    /// definite-length text string of valid UTF-8.
    public func text(at offset: Int) -> String? {
        textBytes(at: offset).flatMap(CBORText.string)
    }

    /// The UUID at `offset` as the encoder writes one — tag 37 and 16 bytes — or `nil` for any
    /// other form.
    @inlinable
    public func uuid(at offset: Int) -> UUID? {
        Self.uuidValue(base, offset, end)?.value
    }

    /// The date at `offset` as the encoder writes one — tag 1 and a double that is not NaN, or
    /// tag 1 and whole seconds — or `nil` for any other form.
    @inlinable @inline(__always)
    public func date(at offset: Int) -> Date? {
        // The encoder's form, a double, by compares alone, as in `skipCommonForm`.
        if let (date, _) = Self.dateValue(base, offset, end) { return date }
        guard offset >= 0, offset < end &- 1, base.load(fromByteOffset: offset, as: UInt8.self) == 0xC1,
              case let initial = base.load(fromByteOffset: offset &+ 1, as: UInt8.self),
              let (argument, _) = head(initial, at: offset &+ 1) else { return nil }
        if initial == 0xFB {
            let seconds = Double(bitPattern: argument)
            return seconds.isNaN ? nil : Date(timeIntervalSince1970: seconds)
        }
        return initial >> 5 == 0 ? Date(timeIntervalSince1970: Double(argument)) : nil
    }

    /// The integer at `offset` when it fits `Int`: `.some(nil)` for `null` (or `undefined`),
    /// `nil` for any other form or a number past `Int`'s range.
    @inlinable @inline(__always)
    public func optionalInt(at offset: Int) -> Int?? {
        // Counts and token numbers below 65,536, and null, by compares alone, as in `skipCommonForm`.
        if let (number, _) = Self.optionalIntValue(base, offset, end) { return .some(number) }
        guard offset >= 0, offset < end, case let initial = base.load(fromByteOffset: offset, as: UInt8.self) else { return nil }
        guard initial >> 5 <= 1, let (argument, _) = head(initial, at: offset), argument <= UInt64(Int.max) else { return nil }
        return .some(initial >> 5 == 0 ? Int(argument) : ~Int(argument))
    }
}
