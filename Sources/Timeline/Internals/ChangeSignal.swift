internal import Synchronization

/// Wakes the change log's followers in this process when it commits. Each follower waits for the
/// next commit or for its poll interval (commits of other processes are only seen by reading the
/// log again), whichever comes first; a commit while it was busy is remembered, so none is missed.
final class ChangeSignal: Sendable {
    private struct Follower {
        var waiting: CheckedContinuation<Void, Never>?
        /// Ends the wait after its timeout; cancelled when a commit ends it first.
        var timer: Task<Void, Never>?
        var pending = false

        /// Takes the waiting continuation (cancelling its timer), to be resumed outside the lock.
        mutating func takeWaiting() -> CheckedContinuation<Void, Never>? {
            timer?.cancel()
            timer = nil
            defer { waiting = nil }
            return waiting
        }
    }

    private let followers = Mutex<[Int: Follower]>([:])
    private let nextID = Atomic<Int>(0)

    /// Registers a follower; it sees every commit from now on.
    func subscribe() -> Int {
        let id = nextID.add(1, ordering: .relaxed).newValue
        followers.withLock { $0[id] = Follower() }
        return id
    }

    /// Forgets follower `id`, waking it if it waits.
    func cancel(_ id: Int) {
        var removed = followers.withLock { $0.removeValue(forKey: id) }
        removed?.takeWaiting()?.resume()
    }

    /// Tells every follower that something was committed.
    func signal() {
        let woken = followers.withLock { followers in
            followers.keys.compactMap { id -> CheckedContinuation<Void, Never>? in
                if let waiting = followers[id]?.takeWaiting() { return waiting }
                followers[id]?.pending = true
                return nil
            }
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns at the next commit after the previous call (at once if one happened meanwhile),
    /// after `timeout`, or when the calling task is cancelled — whichever comes first.
    func wait(_ id: Int, timeout: Duration) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let timer = Task { [self] in
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    wake(id)
                }
                let resumeNow = followers.withLock { followers -> Bool in
                    guard var follower = followers[id], !follower.pending else {
                        followers[id]?.pending = false
                        return true
                    }
                    follower.waiting = continuation
                    follower.timer = timer
                    followers[id] = follower
                    return false
                }
                if resumeNow {
                    timer.cancel()
                    continuation.resume()
                }
            }
        } onCancel: {
            wake(id)
        }
    }

    /// Resumes follower `id` if it waits; if it is not waiting yet — its timer (or its task's
    /// cancellation) came before `wait` stored the continuation — its next wait returns at once,
    /// so the wake-up is not lost. (Lost, a follower whose timer fired first waited on for the
    /// next commit of this process: with a zero poll interval, every time.)
    private func wake(_ id: Int) {
        followers.withLock { followers -> CheckedContinuation<Void, Never>? in
            guard followers[id] != nil else { return nil }
            if let waiting = followers[id]?.takeWaiting() { return waiting }
            followers[id]?.pending = true
            return nil
        }?.resume()
    }
}
