import Foundation

/// `pleat score`'s cache writes, on a thread of their own and in order, so that the model scores the
/// next users while the last ones are written (SQLite's insert and JSON encoding are otherwise a fifth
/// of a run). At most one batch waits behind the one being written, which bounds the memory held. The
/// cache is used by nothing else between `init` and `finish`. The first error stops the writes and is
/// thrown by the next `submit` or by `finish`; lists after it are not written.
final class CacheWriteQueue: @unchecked Sendable {
    private let cache: RecommendationCache
    private let modelId: String
    private let queue = DispatchQueue(label: "pleat.score.cache-writes")
    private let slots = DispatchSemaphore(value: 2)
    private let lock = NSLock()
    private var failure: Error?
    private var writtenLists = 0

    init(cache: RecommendationCache, modelId: String) {
        (self.cache, self.modelId) = (cache, modelId)
    }

    /// Queues `lists` for one transaction; blocks while two batches are already queued or being written.
    func submit(_ lists: [RankedList]) throws {
        try rethrowFailure()
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard lock.withLock({ failure == nil }) else { return }
            do {
                try cache.write(lists, modelId: modelId)
                lock.withLock { writtenLists += lists.count }
            } catch {
                lock.withLock { failure = error }
            }
        }
    }

    /// Waits for every queued write; returns how many lists were written.
    func finish() throws -> Int {
        drain()
        try rethrowFailure()
        return lock.withLock { writtenLists }
    }

    /// Waits for every queued write, errors aside: a run that stops early must not leave a write
    /// running on the cache it hands back.
    func drain() { queue.sync {} }

    private func rethrowFailure() throws {
        if let error = lock.withLock({ failure }) { throw error }
    }
}
