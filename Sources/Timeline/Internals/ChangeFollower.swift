/// One follower of the change log: hands out the changes after a position, one at a time, as its
/// consumer asks for them — reading the log a page at a time and waiting for the next commit when
/// it has caught up. What ``TimelineStore/followChanges(after:pollInterval:)`` and the live views
/// built on it pull from.
///
/// Pulled, not pushed: a consumer that stops asking (a stalled client) leaves its backlog in the
/// log, not in memory. The sequences used to be fed by a task that read the log as fast as it
/// could into the stream's unbounded buffer, so a consumer that stalled held every change since in
/// memory, without end (measured: 20,000 changes, 10 MB more resident memory).
///
/// An actor, so that a sequence iterated by several tasks at once hands each change to one of
/// them, once.
actor ChangeFollower {
    private let timeline: TimelineStore
    private let signal: ChangeSignal
    private let subscription: Int
    private let pollInterval: Duration
    /// The page read last, and how much of it has been handed out.
    private var page: [Change] = []
    private var taken = 0
    /// The position of the last change handed out (or the starting one).
    private var last: Int
    /// Whether a call waits for the next commit: the subscription has one waiter at a time.
    private var waiting = false

    init(_ timeline: TimelineStore, after position: Int, pollInterval: Duration) {
        self.timeline = timeline
        signal = timeline.changeSignal
        subscription = signal.subscribe()   // from now on: a commit before the first call is not missed
        self.pollInterval = pollInterval
        last = position
    }

    deinit {
        signal.cancel(subscription)
    }

    /// The next change, waiting for it when the log holds no more; `nil` once the calling task is
    /// cancelled.
    /// - Throws: what reading the log throws (the store was closed, say).
    func next() async throws -> Change? {
        while true {
            if taken < page.count {
                let change = page[taken]
                taken += 1
                last = change.position
                return change
            }
            if Task.isCancelled { return nil }
            if waiting {
                // Another task iterating the same sequence waits for the commit; wait behind it.
                try? await Task.sleep(for: .milliseconds(1))
                continue
            }
            page = try timeline.changes(after: last, limit: 1_000)
            taken = 0
            if page.isEmpty {
                waiting = true
                await signal.wait(subscription, timeout: pollInterval)
                waiting = false
            }
        }
    }
}
