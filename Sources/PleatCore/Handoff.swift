import Foundation

/// Values passed from one producer thread to one consumer in order (a history reader to scoring,
/// scoring to the cache writer), at most `capacity` waiting, so a
/// fast producer cannot run ahead of memory. The producer ends with `finish` (an error is rethrown to
/// the consumer after the values before it); the consumer may `cancel`, after which the producer's
/// values are dropped instead of waiting.
public final class Handoff<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private var waiting: [Value] = []
    private var finished = false, cancelled = false
    private var failure: Error?

    public init(capacity: Int) { self.capacity = capacity }

    /// Queues `value`, blocking while `capacity` values wait; drops it once the consumer has cancelled.
    public func put(_ value: Value) {
        condition.lock(); defer { condition.unlock() }
        while waiting.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return }
        waiting.append(value)
        condition.broadcast()
    }

    /// No more values; `error` (if any) is thrown by `take` once the values before it are taken.
    public func finish(_ error: Error?) {
        condition.lock(); defer { condition.unlock() }
        (finished, failure) = (true, error)
        condition.broadcast()
    }

    /// The next value, nil when the producer finished without error; blocks until one of the two.
    public func take() throws -> Value? {
        condition.lock(); defer { condition.unlock() }
        while waiting.isEmpty && !finished { condition.wait() }
        if !waiting.isEmpty {
            condition.broadcast()
            return waiting.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// The consumer wants no more: waiting and future values are dropped.
    public func cancel() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        waiting.removeAll()
        condition.broadcast()
    }
}
