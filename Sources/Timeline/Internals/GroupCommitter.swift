internal import Foundation
internal import TimelineLMDB
internal import TimelineDocumentStore

/// The one writer behind the async API: callers queue work; a dedicated thread (started by the
/// first submission) runs everything queued so far in one write transaction and commits once, so
/// N concurrent durable writes cost one fsync per batch rather than N.
///
/// - A caller resumes only after the commit that holds its work returned (with `.durable`, after
///   the fsync).
/// - Work that throws is rolled back alone and fails only its caller; the rest of the batch
///   commits. (The batch then runs a second time, each piece in its own nested transaction: see
///   ``commit(_:)``.)
/// - If the commit itself fails, every caller of the batch gets the error and nothing of the
///   batch is written.
///
/// The thread is a plain thread, not a task: a write transaction holds LMDB's writer lock, which
/// belongs to the thread that took it and must never be held across a suspension.
///
/// `@unchecked Sendable`: the queue and flags are only touched with `condition` locked.
final class GroupCommitter: @unchecked Sendable {
    /// One caller's work and how to tell it the outcome.
    struct Job {
        let run: (borrowing WriteTransaction) throws -> Void
        let finish: (Result<Void, any Error>) -> Void
    }

    /// The most jobs in one transaction: bounds a transaction's size and a caller's wait.
    static let maxBatch = 512

    /// Under load — the last batch held several jobs and ended less than `loadWindow` ago — a job
    /// that finds the writer idle waits for the others of its burst, so that a burst of concurrent
    /// writes becomes one commit instead of a commit of its first writes and another of the rest.
    /// It waits while they keep coming: until none has come for `lingerGap` seconds (`settleGap`
    /// once as many are queued as the last batch held), and never longer than `linger` in all. A
    /// lone writer never waits (its batches hold one job).
    ///
    /// Until 2026-11-30 the wait was a fixed 0.2 ms, ended as soon as the last batch's size was
    /// queued. 64 tasks on two cores take longer than that to queue, and a burst split in two then
    /// stayed split, as the second part set the size the next burst waited for: bursts of 64 took
    /// ~1.9 commits each (`TimelineInstructions burst`), ~1.0 with this rule.
    static let linger = 0.001
    static let lingerGap = 0.000_2
    static let settleGap = 0.000_05
    static let loadWindow: UInt64 = 10_000_000   // nanoseconds

    private let store: Store
    /// Called on the writer thread after each commit that wrote something.
    private let committed: @Sendable () -> Void
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var stopping = false
    private var stopped = false
    private var thread: Thread?
    /// The size of the last batch and when its commit ended (monotonic nanoseconds): the load.
    private var lastBatch = 0
    private var lastCommitEnd: UInt64 = 0

    /// Whether the writer thread was started: on the first submission, so that a store only read
    /// (or opened and closed, as a cold open is) never starts and joins a thread.
    private var started = false

    init(store: Store, committed: @escaping @Sendable () -> Void = {}) {
        self.store = store
        self.committed = committed
    }

    /// Starts the writer thread. Called with `condition` locked.
    private func startThread() {
        started = true
        // The thread keeps the committer alive until its loop ends (`thread` is cleared then).
        let thread = Thread {
            nameCurrentThread("timeline-writer")   // for top -H, perf and gdb
            self.loop()
        }
        thread.name = "TimelineStore.writer"
        self.thread = thread
        thread.start()
    }

    /// Whether ``stop()`` may have to wait for the writer thread to drain its queue.
    var mayWaitToStop: Bool {
        condition.lock()
        defer { condition.unlock() }
        return started && !stopped
    }

    /// How many jobs wait for the writer thread. Tests read it to gather a batch on purpose.
    var queuedJobs: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    /// Runs `work` in the next batch and returns its result once that batch is committed.
    func submit<T: Sendable>(_ work: @escaping @Sendable (borrowing WriteTransaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let box = ResultBox<T>()
            let job = Job(
                run: { txn in box.value = try work(txn) },
                finish: { outcome in
                    switch outcome {
                    case .success: continuation.resume(with: box.value.map { .success($0) } ?? .failure(TimelineError.closed))
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                }
            )
            condition.lock()
            if stopping {
                condition.unlock()
                continuation.resume(throwing: TimelineError.closed)
                return
            }
            if !started { startThread() }
            queue.append(job)
            condition.signal()
            condition.unlock()
        }
    }

    /// Finishes the queued work, then stops the thread. Later submissions fail with `.closed`.
    /// Called on the writer thread itself (the last reference to the store can go away there), it
    /// only asks the loop to end, since waiting would wait for itself.
    func stop() {
        condition.lock()
        stopping = true
        if !started {
            // Never started: nothing queued, nothing to wait for.
            stopped = true
            condition.unlock()
            return
        }
        condition.broadcast()
        if Thread.current !== thread {
            while !stopped { condition.wait() }
        }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty {
                stopped = true
                thread = nil
                condition.broadcast()
                condition.unlock()
                return
            }
            if queue.count < lastBatch, lastBatch > 1, DispatchTime.now().uptimeNanoseconds - lastCommitEnd < Self.loadWindow {
                let end = Date(timeIntervalSinceNow: Self.linger)
                var lastArrival = Date()
                while !stopping, queue.count < Self.maxBatch {
                    let queued = queue.count
                    let gap = queued >= lastBatch ? Self.settleGap : Self.lingerGap
                    guard condition.wait(until: min(end, lastArrival.addingTimeInterval(gap))) else { break }
                    if queue.count > queued { lastArrival = Date() }
                }
            }
            var batch = Array(queue.prefix(Self.maxBatch))
            queue.removeFirst(batch.count)
            condition.unlock()
            let outcomes = commit(batch)
            condition.lock()
            (lastBatch, lastCommitEnd) = (batch.count, DispatchTime.now().uptimeNanoseconds)
            condition.unlock()
            if outcomes.contains(where: { if case .success = $0 { true } else { false } }) { committed() }
            // Let go of the work (and what it captured, such as the store) before the callers
            // resume: a caller that then drops the last reference closes the store at once, on its
            // own thread, rather than later on this one.
            let finishes = batch.map(\.finish)
            batch.removeAll()
            for (finish, outcome) in zip(finishes, outcomes) { finish(outcome) }
        }
    }

    /// Runs `batch` in one write transaction and returns each job's outcome.
    ///
    /// First every job runs straight in the transaction. Only when one throws is the transaction
    /// aborted and the batch run again, each job in a nested transaction of its own, so that the
    /// failure is rolled back alone (a job's writes before its error must not stay). A nested
    /// transaction costs LMDB a child's begin and commit, and a copy of each page the job touches
    /// that the batch already changed: in bursts of 64 appends (`TimelineInstructions burst`),
    /// the CPU time an append takes fell from ~60 µs to ~49 µs without it (`Docs/benchmarks.md`,
    /// "Batches without nested transactions").
    private func commit(_ batch: [Job]) -> [Result<Void, any Error>] {
        if batch.count == 1, let job = batch.first {
            // Alone in its batch: no nested transaction needed to keep a failure to itself.
            do {
                try store.write { txn in try job.run(txn) }
                return [.success(())]
            } catch {
                return [.failure(error)]
            }
        }
        do {
            try store.write { txn in
                for job in batch {
                    do { try job.run(txn) } catch { throw JobFailed() }
                }
            }
            return Array(repeating: .success(()), count: batch.count)
        } catch is JobFailed {
            // Nothing of the batch was written: run it again, each job on its own.
        } catch {
            return Array(repeating: .failure(error), count: batch.count)
        }
        var outcomes: [Result<Void, any Error>] = []
        do {
            try store.write { txn in
                // The closure may run again after the map grew: start the outcomes afresh.
                outcomes = []
                outcomes.reserveCapacity(batch.count)
                for job in batch {
                    do {
                        try txn.nested { child in try job.run(child) }
                        outcomes.append(.success(()))
                    } catch {
                        outcomes.append(.failure(error))
                    }
                }
            }
        } catch {
            return Array(repeating: .failure(error), count: batch.count)
        }
        return outcomes
    }
}

/// Ends a batch's first run, in which the jobs share the transaction, when one of them throws.
private struct JobFailed: Error {}

/// Carries a job's result from the writer thread to its caller (written before the commit,
/// read after it, never at the same time).
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
