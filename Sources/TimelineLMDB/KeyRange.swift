/// A range of keys for a cursor scan: a lower and an upper bound, each included, excluded or
/// absent. Bounds compare with the database's own key order. A bound may be the empty key, which
/// every key sorts after: `.from([])` is every key, `.upTo([])` none.
///
/// ```swift
/// KeyRange.all
/// KeyRange.halfOpen(a, b)      // a ≤ key < b
/// KeyRange.closed(a, b)        // a ≤ key ≤ b
/// KeyRange.from(a)             // a ≤ key
/// KeyRange.prefix(p)           // keys that start with p
/// ```
public struct KeyRange: Sendable, Hashable {
    /// One end of a range.
    public enum Bound: Sendable, Hashable {
        /// No limit on this side.
        case unbounded
        /// The key itself belongs to the range.
        case included([UInt8])
        /// The range stops just short of the key.
        case excluded([UInt8])

        /// The bound's key, or `nil` when unbounded.
        public var key: [UInt8]? {
            switch self {
            case .unbounded: nil
            case .included(let key), .excluded(let key): key
            }
        }
    }

    /// The lower end.
    public var lower: Bound
    /// The upper end.
    public var upper: Bound

    /// A range with the given ends.
    public init(lower: Bound, upper: Bound) {
        self.lower = lower
        self.upper = upper
    }

    /// Every key.
    public static let all = KeyRange(lower: .unbounded, upper: .unbounded)

    /// `lower ≤ key < upper`.
    public static func halfOpen(_ lower: [UInt8], _ upper: [UInt8]) -> KeyRange {
        KeyRange(lower: .included(lower), upper: .excluded(upper))
    }

    /// `lower ≤ key ≤ upper`.
    public static func closed(_ lower: [UInt8], _ upper: [UInt8]) -> KeyRange {
        KeyRange(lower: .included(lower), upper: .included(upper))
    }

    /// `lower ≤ key`.
    public static func from(_ lower: [UInt8]) -> KeyRange {
        KeyRange(lower: .included(lower), upper: .unbounded)
    }

    /// `lower < key`.
    public static func after(_ lower: [UInt8]) -> KeyRange {
        KeyRange(lower: .excluded(lower), upper: .unbounded)
    }

    /// `key < upper`.
    public static func upTo(_ upper: [UInt8]) -> KeyRange {
        KeyRange(lower: .unbounded, upper: .excluded(upper))
    }

    /// `key ≤ upper`.
    public static func through(_ upper: [UInt8]) -> KeyRange {
        KeyRange(lower: .unbounded, upper: .included(upper))
    }

    /// Every key that starts with `prefix` (all keys for an empty prefix). Meant for databases
    /// in the default bytewise order.
    public static func prefix(_ prefix: [UInt8]) -> KeyRange {
        let upper: Bound = KeyRange.successor(ofPrefix: prefix).map { .excluded($0) } ?? .unbounded
        return KeyRange(lower: prefix.isEmpty ? .unbounded : .included(prefix), upper: upper)
    }

    /// The smallest key greater than every key starting with `prefix`: the prefix with its last
    /// byte below 0xFF incremented and what follows it cut off; `nil` when every byte is 0xFF.
    static func successor(ofPrefix prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return nil
    }
}
