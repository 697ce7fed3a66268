import Foundation
import PleatCore

/// Collects a batch's valid events and hands them back sorted by primary key without duplicates,
/// in bounded memory: each full run is sorted and spilled to an unlinked temporary file, and the runs are
/// merged.
///
/// Sorting on the client lets the server append to the primary-key index in order (several times
/// faster than random inserts) and removes in-batch duplicates before they reach the server.
final class SortedEventSpool {
    private let runCapacity: Int
    private var current: [PendingEvent] = []
    /// The spilled runs, in the order written.
    private(set) var runs: [FileHandle] = []
    /// Events written to each run: what reading it back must give.
    private var runCounts: [Int] = []
    private(set) var count = 0

    /// `runCapacity` events (32 bytes each) are held in memory at most: 128 MiB by default.
    init(runCapacity: Int = 4 << 20) {
        self.runCapacity = runCapacity
        current.reserveCapacity(min(runCapacity, 1 << 16))
    }

    @inline(__always)
    func append(_ event: PendingEvent) throws {
        current.append(event)
        count += 1
        if current.count >= runCapacity { try spill() }
    }

    /// Sorts what is held; call once after the last `append`.
    func finish() throws {
        current.sort(by: PendingEvent.precedes)
        if !runs.isEmpty { try spill() }
    }

    /// Calls `body` for each distinct event in key order (the first by line among duplicates);
    /// returns how many duplicates were skipped. May be called more than once.
    @discardableResult
    func forEachUnique(_ body: (PendingEvent) throws -> Void) throws -> Int {
        var duplicates = 0
        var previous: PendingEvent? = nil
        func visit(_ event: PendingEvent) throws {
            if let p = previous, PendingEvent.sameKey(p, event) { duplicates += 1; return }
            previous = event
            try body(event)
        }
        if runs.isEmpty {
            for event in current { try visit(event) }
        } else {
            try merge(visit)
        }
        return duplicates
    }

    private func spill() throws {
        current.sort(by: PendingEvent.precedes)
        let run = try FileHandle.unlinkedTemporary(prefix: "pleat-spool")
        do { try current.withUnsafeBytes { try run.write(contentsOf: $0) } } catch {
            try? run.close()
            throw IngestError("cannot write run \(runs.count + 1) of the sort spool: \(error)")
        }
        runs.append(run)
        runCounts.append(current.count)
        current.removeAll(keepingCapacity: true)
    }

    /// k-way merge of the sorted runs, reading each in chunks.
    private func merge(_ visit: (PendingEvent) throws -> Void) throws {
        let readers = try runs.indices.map { try RunReader(run: runs[$0], number: $0 + 1, events: runCounts[$0]) }
        var heads = try readers.map { try $0.next() }
        while true {
            var best: (run: Int, event: PendingEvent)? = nil
            for (i, head) in heads.enumerated() {
                guard let head else { continue }
                if best.map({ PendingEvent.precedes(head, $0.event) }) ?? true { best = (i, head) }
            }
            guard let best else { break }
            try visit(best.event)
            heads[best.run] = try readers[best.run].next()
        }
    }

    private final class RunReader {
        private let handle: FileHandle
        private var chunk: [PendingEvent] = []
        private var index = 0
        private let chunkEvents = 1 << 15

        private let number: Int
        private let expected: Int
        private var read = 0

        /// Reads `run` (the spool's `number`th) from its start.
        init(run: FileHandle, number: Int, events: Int) throws {
            handle = run
            self.number = number
            expected = events
            try handle.seek(toOffset: 0)
        }

        /// The next event of the run, nil at its end; a read error, or a run shorter than it was when
        /// written, throws: a batch must never commit short.
        func next() throws -> PendingEvent? {
            if index == chunk.count {
                let data: Data
                do { data = try handle.read(upToCount: chunkEvents * MemoryLayout<PendingEvent>.stride) ?? Data() } catch {
                    throw IngestError("cannot read run \(number) of the sort spool: \(error)")
                }
                guard !data.isEmpty else {
                    guard read == expected else { throw IngestError("run \(number) of the sort spool ended after \(read) of \(expected) events") }
                    return nil
                }
                guard data.count % MemoryLayout<PendingEvent>.stride == 0, read + data.count / MemoryLayout<PendingEvent>.stride <= expected else {
                    throw IngestError("run \(number) of the sort spool does not hold the events written to it")
                }
                chunk = data.withUnsafeBytes { Array($0.bindMemory(to: PendingEvent.self)) }
                read += chunk.count
                index = 0
            }
            defer { index += 1 }
            return chunk[index]
        }
    }
}
