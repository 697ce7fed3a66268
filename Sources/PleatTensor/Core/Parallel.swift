import Dispatch
import Foundation
import PleatCore

/// Splits row-wise work over the machine's cores. Each row is computed by exactly one worker and the
/// split depends only on the row count, so results are deterministic.
public enum Parallel {
    /// The cores this process may use, shared with the other ranks of an MPI job on the same machine.
    public static let workers = max(1, min(System.coreCount / System.processesOnThisMachine, 8))

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

enum System {
    /// The CPUs this process may use (affinity mask and cgroup quota; `UsableCPUs`).
    static var coreCount: Int { UsableCPUs.current.count }

    /// Ranks of this process's MPI job on this machine (`mpirun` says so; 1 otherwise). When the launcher
    /// binds each rank to its own cores, `coreCount` is already this process's share and this is 1.
    static var processesOnThisMachine: Int {
        let environment = ProcessInfo.processInfo.environment
        guard let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap({ Int($0) }), local > 1 else { return 1 }
        return coreCount < UsableCPUs.current.online ? 1 : local
    }
}
