import Dispatch

/// Splits row-wise work over the machine's cores. Each row is computed by exactly one worker and the
/// split depends only on the row count, so results are deterministic.
public enum Parallel {
    public static let workers = max(1, min(System.coreCount, 8))

    /// Calls `body(range)` on disjoint ranges covering 0..<count, in parallel when it is worth it.
    @inline(__always)
    public static func forRows(_ count: Int, minimumPerWorker: Int = 64, _ body: (Range<Int>) -> Void) {
        let chunks = min(workers, max(1, count / minimumPerWorker))
        if chunks <= 1 { body(0..<count); return }
        withoutActuallyEscaping(body) { body in
            // Workers write disjoint rows; the closure is only used during this call.
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                work((count * chunk / chunks)..<(count * (chunk + 1) / chunks))
            }
        }
    }
}

import Foundation

enum System {
    static var coreCount: Int { ProcessInfo.processInfo.activeProcessorCount }
}
