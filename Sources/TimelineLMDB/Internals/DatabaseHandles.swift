internal import Synchronization

/// Which database each of an environment's handle slots holds now, so that a ``Database`` value
/// is refused where its slot no longer holds its database.
///
/// LMDB's handles are small integers, indexes of slots in the environment, and a slot is reused:
/// after `drop` LMDB frees it, and the next database opened takes it. Without this, a handle kept
/// past its `drop` read and wrote whichever database was opened next (found by a probe: a put
/// through a dropped handle landed in another database, silently), and a handle from another
/// environment used whatever database had its number there.
///
/// Each handle carries a token, unique in the process; a slot keeps the token of the database it
/// holds and that database's name. An open that lands in a slot holding its own name keeps the
/// slot's token (every handle of a database is one value); any other open gets a new token. A
/// drop clears its slot. Checking a handle is one relaxed atomic load: only opens and drops take
/// the lock. (A handle opened inside a write transaction that rolled back left LMDB's slot free
/// too; the next database to take that slot has another name, so it gets a new token and the
/// rolled-back handle is refused. If the same name is created again there, the handle names
/// that database again, which is what it meant.)
final class DatabaseHandles: @unchecked Sendable {
    private let tokens: UnsafeMutablePointer<Atomic<UInt64>>
    private let slots: Int
    /// The name of the database in each slot: `""` for the main database (a named database's
    /// name is never empty), `nil` for a slot not known to hold one.
    private let names: Mutex<[String?]>
    private static let lastToken = Atomic<UInt64>(0)

    /// Slots for an environment of `slots` handles (`maxDatabases` + LMDB's own two).
    init(slots: Int) {
        self.slots = slots
        tokens = .allocate(capacity: slots)
        for slot in 0..<slots { (tokens + slot).initialize(to: Atomic(0)) }
        names = Mutex([String?](repeating: nil, count: slots))
    }

    deinit {
        tokens.deinitialize(count: slots)
        tokens.deallocate()
    }

    /// The token of a handle LMDB has just returned for database `name` (`nil`: the main one) in
    /// slot `dbi`.
    func token(slot dbi: UInt32, name: String?) -> UInt64 {
        let slot = Int(dbi)
        guard slot < slots else { return 0 }   // never: LMDB's handles are below its maxdbs
        return names.withLock { names in
            let current = tokens[slot].load(ordering: .relaxed)
            if current != 0, names[slot] == (name ?? "") { return current }
            let token = Self.lastToken.add(1, ordering: .relaxed).newValue
            names[slot] = name ?? ""
            tokens[slot].store(token, ordering: .relaxed)
            return token
        }
    }

    /// Whether slot `dbi` still holds the database of the handle with `token`.
    @inline(__always)
    func holds(slot dbi: UInt32, token: UInt64) -> Bool {
        Int(dbi) < slots && tokens[Int(dbi)].load(ordering: .relaxed) == token
    }

    /// Marks slot `dbi` free: LMDB has closed its handle (`mdb_drop` with `del = 1`).
    func release(slot dbi: UInt32) {
        guard Int(dbi) < slots else { return }
        names.withLock { names in
            names[Int(dbi)] = nil
            tokens[Int(dbi)].store(0, ordering: .relaxed)
        }
    }
}
