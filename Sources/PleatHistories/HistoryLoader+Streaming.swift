import Foundation
import PleatCore
import PleatStorage

extension HistoryLoader {
    /// Users' histories in chunks of `chunkUsers` whole users, in user-id order, read on a thread of its
    /// own while `body` works on the chunk before: batch scoring starts on the first users while
    /// PostgreSQL still sends the rest, and never holds every history at once (at most two chunks wait).
    /// One reader over the parent table (PostgreSQL merges the partitions in key order), in one
    /// repeatable-read snapshot; `db` is busy until this returns. If `body` throws, the rest of the COPY
    /// is read and dropped (leaving the connection usable) and the error is rethrown.
    public static func stream(from db: PostgresConnection, shard: Shard = .all, chunkUsers: Int = 2_048,
                              _ body: (InteractionHistories) throws -> Void) throws {
        precondition(chunkUsers > 0)
        let handoff = Handoff<InteractionHistories>(capacity: 2)
        let done = DispatchSemaphore(value: 0)
        let filter = InteractionReader.Filter(shard: shard)
        nonisolated(unsafe) let connection = db  // used by the reader alone until it signals `done`
        // A thread of its own, not a Dispatch worker: a worker blocked on the socket would leave the
        // model's parallel loops (concurrentPerform) one worker short.
        let reader = Thread {
            defer { done.signal() }
            do {
                try InteractionReader.inSnapshot(connection) { reader in
                    var chunk = InteractionHistories()
                    try reader.events(of: "interactions", filter: filter) { event in
                        if chunk.userIds.last != event.user && chunk.userCount >= chunkUsers {
                            chunk.finish()
                            handoff.put(chunk)
                            chunk = InteractionHistories()
                        }
                        chunk.append(event)
                    }
                    chunk.finish()
                    if chunk.userCount > 0 { handoff.put(chunk) }
                }
                handoff.finish(nil)
            } catch {
                handoff.finish(error)
            }
        }
        reader.name = "pleat.history-reader"
        reader.start()
        defer {
            handoff.cancel()
            done.wait()
        }
        while let chunk = try handoff.take() { try body(chunk) }
    }
}
