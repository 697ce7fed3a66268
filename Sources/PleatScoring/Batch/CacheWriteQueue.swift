import Foundation
import PleatCore
import PleatStorage

/// `pleat score`'s cache writes, on a thread of their own and in order, so that the model scores the
/// next users while the last ones are written (SQLite's insert and JSON encoding are otherwise a fifth
/// of a run). At most one batch waits behind the one being written, which bounds the memory held. The
/// cache is used by nothing else between `init` and `close`. The first error stops the writes and is
/// thrown by the next `submit` or by `finish`; lists after it are not written. A Thread, not a
/// Dispatch queue: a Dispatch worker waiting on the disk would leave the model's parallel loops one
/// worker short.
final class CacheWriteQueue: @unchecked Sendable {
    private let batches = Handoff<[RankedList]>(capacity: 1)
    private let writerDone = DispatchSemaphore(value: 0)
    private let state = NSCondition()
    private var failure: Error?
    private var writtenLists = 0
    private var unwritten = 0
    private var closed = false

    init(cache: RecommendationCache, modelId: String) {
        nonisolated(unsafe) let cache = cache  // used by the writer alone until `close`
        let writer = Thread { [self] in
            defer { writerDone.signal() }
            while let lists = try? batches.take() {
                if state.withLock({ failure == nil }) {
                    do {
                        try cache.write(lists, modelId: modelId)
                        state.withLock { writtenLists += lists.count }
                    } catch {
                        state.withLock { failure = error }
                    }
                }
                state.withLock { unwritten -= 1; state.broadcast() }
            }
        }
        writer.name = "pleat.cache-writer"
        writer.start()
    }

    /// Queues `lists` for one transaction; blocks while one batch already waits behind the one being written.
    func submit(_ lists: [RankedList]) throws {
        try rethrowFailure()
        state.withLock { unwritten += 1 }
        batches.put(lists)
    }

    /// Waits for every queued write, errors aside; the queue stays open.
    func drain() {
        state.withLock { while unwritten > 0 { state.wait() } }
    }

    /// Waits for every queued write and ends the writer; returns how many lists were written.
    func finish() throws -> Int {
        close()
        try rethrowFailure()
        return state.withLock { writtenLists }
    }

    /// Waits for every queued write and ends the writer, errors aside: a run that stops early must not
    /// leave a write running on the cache it hands back. Idempotent.
    func close() {
        guard !state.withLock({ defer { closed = true }; return closed }) else { return }
        batches.finish(nil)
        writerDone.wait()
    }

    private func rethrowFailure() throws {
        if let error = state.withLock({ failure }) { throw error }
    }
}
