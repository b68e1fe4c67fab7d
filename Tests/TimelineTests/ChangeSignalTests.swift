import Testing
@testable import Timeline

@Suite("The change signal that wakes followers")
struct ChangeSignalTests {
    @Test("a wait ends when its timeout fires, even when the timer fires before the wait is stored")
    func earlyTimeout() async {
        let signal = ChangeSignal()
        let id = signal.subscribe()
        // A zero timeout lets the timer fire before `wait` stores its continuation, every time or
        // nearly: a lost wake-up then left the wait for a commit that never came. The bound is
        // generous: a lost wake-up never ends, and a machine starved by other work took over 5 s
        // to end a round once.
        for round in 0..<200 {
            let ended = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await signal.wait(id, timeout: .zero); return true }
                group.addTask { try? await Task.sleep(for: .seconds(60)); return false }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(ended, "round \(round): the wait outlived its zero timeout")
            if !ended { break }
        }
        // A signal while nobody waits is remembered for the next wait, as before.
        signal.signal()
        await signal.wait(id, timeout: .seconds(3_600))
        signal.cancel(id)
    }
}
