import Foundation
import PleatCore
import PleatStorage

/// Users' newest event times as PostgreSQL last said them, kept valid by listening to ingest commits
/// (`IngestAnnouncements`), so a cache hit needs no database round trip: a user's newest event can
/// only change when a batch commits, and every commit announces itself. Each announcement forgets what
/// was known (the next request per user asks PostgreSQL once more). While the listening connection is
/// down nothing known is used, since announcements may be missed; on reconnecting, what was known
/// stays valid only if no batch committed meanwhile (the newest committed batch is unchanged).
///
/// The one window: an answer may come from what was known for the moment between an ingest's commit
/// and the announcement's arrival (milliseconds), as if the request had come that much earlier.
final class FreshnessWatch: @unchecked Sendable {
    /// A user's database id and newest event second (nil: no events); nil for a user PostgreSQL does not hold.
    typealias Newest = (id: Int, second: Int64?)?

    /// Users remembered at most; past it the memory starts over (each user then asks PostgreSQL once more).
    static let maximumUsers = 2_000_000
    /// How long one wait for announcements lasts: the longest a stopped watch takes to notice.
    static let waitSeconds = 0.25
    /// Pause before reconnecting after the connection was lost.
    static let reconnectSeconds = 0.5

    private let lock = NSLock()
    private var known: [String: Newest] = [:]
    /// Moves on every announcement, so a reading taken before one is not remembered after it.
    private var generation = 0
    private var listening = false
    private var stopped = false
    /// The newest batch this watch has seen committed.
    var lastBatch: Int? { lock.withLock { batchSeen } }
    private var batchSeen: Int?
    private let connect: () throws -> IngestAnnouncements
    /// Called when the listening connection fails: PostgreSQL is likely down for everyone.
    private let onLost: () -> Void

    init(connect: @escaping () throws -> IngestAnnouncements, onLost: @escaping () -> Void) { (self.connect, self.onLost) = (connect, onLost) }

    /// What is known of `user` (`.some(nil)`: not in the database), or nil when PostgreSQL must be asked.
    func newestEvent(of user: String) -> Newest? {
        lock.withLock { listening ? known[user] : nil }
    }

    /// The generation a reading belongs to: take it before asking PostgreSQL.
    var currentGeneration: Int { lock.withLock { generation } }

    /// Remembers a reading taken in `generation`, unless a batch committed since.
    func remember(_ newest: Newest, of user: String, generation reading: Int) {
        lock.withLock {
            guard listening, reading == generation else { return }
            if known.count >= Self.maximumUsers { known.removeAll(keepingCapacity: true) }
            known[user] = newest
        }
    }

    /// Whether announcements are being received now (tests and `/metrics`).
    var isListening: Bool { lock.withLock { listening } }

    /// Listens on a thread of its own until `stop`.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "pleat-freshness"
        thread.start()
    }

    func stop() { lock.withLock { stopped = true } }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func run() {
        while !isStopped {
            do {
                let announcements = try connect()
                let newest = try announcements.newestCommitted()
                lock.withLock {
                    if batchSeen != newest { forgetLocked() }
                    batchSeen = newest
                    listening = true
                }
                while !isStopped {
                    let batches = try announcements.committedBatches(waitingUpTo: Self.waitSeconds)
                    guard let newestAnnounced = batches.max() else { continue }
                    lock.withLock {
                        forgetLocked()
                        batchSeen = max(batchSeen ?? 0, newestAnnounced)
                    }
                }
            } catch {
                lock.withLock { listening = false }
                if !isStopped { onLost() }
                Thread.sleep(forTimeInterval: Self.reconnectSeconds)
            }
        }
        lock.withLock { listening = false }
    }

    private func forgetLocked() {
        generation += 1
        known.removeAll(keepingCapacity: true)
    }
}
