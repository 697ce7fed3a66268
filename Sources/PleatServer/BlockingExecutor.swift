import Foundation

/// Runs blocking work (libpq, SQLite, the model) on threads of its own, never on Swift's cooperative
/// pool, so that requests which need no such work (`/healthz`, `/metrics`) are answered whatever it is
/// doing. Work waits in a queue of at most `queueLimit` items; past that, `run` throws `Busy` at once
/// (the server says 503 with Retry-After), so a burst of slow requests cannot pile up without bound.
public final class BlockingExecutor: @unchecked Sendable {
    /// The queue was full.
    public struct Busy: Error {}

    private let condition = NSCondition()
    private var queue: [() -> Void] = []
    private let queueLimit: Int
    private var stopped = false

    public init(name: String, threads: Int, queueLimit: Int) {
        self.queueLimit = queueLimit
        for index in 0..<max(1, threads) {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on one of the executor's threads and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            condition.lock()
            defer { condition.unlock() }
            guard !stopped, queue.count < queueLimit else {
                continuation.resume(throwing: Busy())
                return
            }
            queue.append { continuation.resume(with: Result { try body() }) }
            condition.signal()
        }
    }

    /// Work waiting for a thread, and work running.
    var queued: Int { condition.lock(); defer { condition.unlock() }; return queue.count }
    var running: Int { condition.lock(); defer { condition.unlock() }; return busy }
    private var busy = 0

    /// Lets the threads finish what is queued and end.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty { condition.unlock(); return }
            let job = queue.removeFirst()
            busy += 1
            condition.unlock()
            job()
            condition.lock()
            busy -= 1
            condition.unlock()
        }
    }
}
