#if canImport(Glibc)
internal import Glibc
#endif
internal import Foundation
internal import Synchronization

/// Tells the change log's followers that the store's data file was written — by any process on
/// this machine — so that a follower in a UI process sees a service's commit at once instead of at
/// its next poll. On Linux it is an inotify watch on `data.mdb` (LMDB writes every commit's pages
/// and then its meta page with `pwrite`, and each write raises `IN_MODIFY`), read by a thread of
/// its own that sleeps in `poll` while nothing happens: no CPU while idle, no timer.
///
/// A wake-up is only a hint to read the log again: the first write of a commit may wake a
/// follower before the commit is visible, and the meta page's write then wakes it again. Where
/// there is no inotify (not Linux), ``start(path:onChange:)`` returns `nil` and followers poll.
final class DataFileWatch: Sendable {
    private let descriptor: Int32
    private let stopPipe: (read: Int32, write: Int32)
    private let finished = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)

    /// Starts watching `path/data.mdb`; `onChange` runs on the watch's thread after writes.
    /// Returns `nil` when the platform or the file allows no watch.
    static func start(path: String, onChange: @escaping @Sendable () -> Void) -> DataFileWatch? {
        #if os(Linux)
        let descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard descriptor >= 0 else { return nil }
        var pipeEnds: [Int32] = [0, 0]
        guard inotify_add_watch(descriptor, path + "/data.mdb", UInt32(IN_MODIFY)) >= 0,
              pipe(&pipeEnds) == 0 else {
            close(descriptor)
            return nil
        }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let watch = DataFileWatch(descriptor: descriptor, stopPipe: (pipeEnds[0], pipeEnds[1]))
        Thread.detachNewThread { watch.run(onChange) }
        return watch
        #else
        return nil
        #endif
    }

    private init(descriptor: Int32, stopPipe: (read: Int32, write: Int32)) {
        self.descriptor = descriptor
        self.stopPipe = stopPipe
    }

    #if os(Linux)
    private func run(_ onChange: @Sendable () -> Void) {
        defer {
            close(descriptor)
            close(stopPipe.read)
            finished.signal()
        }
        var events = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 4_096)
        var settling = false
        while true {
            // After a burst of writes, wait 1 ms for more, then wake the followers once again:
            // the event of the meta page's write arrives inside that write, a moment before the
            // writer publishes the new transaction to readers (in the lock file), so a follower
            // woken by it alone may still see the previous one. Measured: seen 2.3 ms after the
            // commit returned without this (at the next commit), 0.1 ms with it (`Docs/changes.md`).
            let ready = poll(&events, 2, settling ? 1 : -1)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 || events[1].revents != 0 { return }
            if ready == 0 {
                settling = false
                onChange()
                continue
            }
            // Drain what queued up (a commit raises several events), then wake the followers once.
            while buffer.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
            onChange()
            settling = true
        }
    }
    #endif

    /// Ends the watch and waits for its thread to finish; calling it again does nothing.
    func stop() {
        #if os(Linux)
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        if write(stopPipe.write, &byte, 1) == 1 { finished.wait() }
        close(stopPipe.write)
        #endif
    }
}
