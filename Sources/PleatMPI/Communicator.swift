import CMPI
import Foundation

/// The processes of one data-parallel job and the few collective operations training needs.
///
/// Started by `mpirun` (Open MPI) or `srun` (Slurm, PMI or PMIx), the job is MPI's world; otherwise it is
/// this process alone and every operation is the identity, so a single-process run does not touch MPI.
/// Floating-point sums are formed in a fixed order (each element added in rank order, see `orderedSum`):
/// every rank gets the same bits, and the same job gives the same result on every run, which an
/// `MPI_Allreduce` (whose order depends on the algorithm Open MPI picks) does not promise.
///
/// Every rank must call the same operations in the same order. A rank that dies ends the job: `mpirun`
/// and `srun` stop the others and name the dead rank (MPI's default error handler).
public final class Communicator: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let usesMPI: Bool

    /// This process alone.
    public static let single = Communicator(rank: 0, size: 1, usesMPI: false)

    private init(rank: Int, size: Int, usesMPI: Bool) { (self.rank, self.size, self.usesMPI) = (rank, size, usesMPI) }

    /// The job this process belongs to (MPI is initialised on first use when a launcher started us).
    public static var world: Communicator { started }

    private static let started: Communicator = {
        guard launchedByMPI else { return single }
        var provided: Int32 = 0
        // Funneled: only the thread that trains calls MPI (OpenBLAS's threads never do).
        MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(pleat_mpi_comm_world(), &rank)
        MPI_Comm_size(pleat_mpi_comm_world(), &size)
        atexit { Communicator.finalize() }
        return Communicator(rank: Int(rank), size: Int(size), usesMPI: true)
    }()

    /// Whether `mpirun`/`mpiexec` (Open MPI) or `srun` (PMI-2, PMIx) started this process.
    public static var launchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
    }

    /// The rank a launcher gave this process, read from its environment without starting MPI (0 alone).
    public static var launchedRank: Int {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"].lazy.compactMap { environment[$0].flatMap { Int($0) } }.first ?? 0
    }

    public var isDistributed: Bool { size > 1 }

    /// Sums `values` over the ranks, in rank order, into every rank's `values`.
    public func sumInRankOrder(_ values: UnsafeMutableBufferPointer<Float>) {
        guard isDistributed else { return }
        orderedSum(values, type: pleat_mpi_float())
    }

    /// Sums `values` over the ranks, in rank order, into every rank's `values`.
    public func sumInRankOrder(_ values: inout [Double]) {
        guard isDistributed else { return }
        values.withUnsafeMutableBufferPointer { orderedSum($0, type: pleat_mpi_double()) }
    }

    /// Exact integer sums over the ranks (any order gives the same result).
    public func sum(_ values: inout [Int64]) {
        guard isDistributed, !values.isEmpty else { return }
        values.withUnsafeMutableBufferPointer {
            _ = MPI_Allreduce(pleat_mpi_in_place(), $0.baseAddress, Int32($0.count), pleat_mpi_int64(), pleat_mpi_sum(), pleat_mpi_comm_world())
        }
    }

    public func sum(_ value: Int) -> Int {
        var values = [Int64(value)]
        sum(&values)
        return Int(values[0])
    }

    public func maximum(_ value: Int) -> Int {
        guard isDistributed else { return value }
        var v = Int64(value)
        MPI_Allreduce(pleat_mpi_in_place(), &v, 1, pleat_mpi_int64(), pleat_mpi_max(), pleat_mpi_comm_world())
        return Int(v)
    }

    /// Rank 0's `text` on every rank (the others' arguments are ignored).
    public func broadcast(_ text: String) -> String {
        guard isDistributed else { return text }
        var bytes = Array(text.utf8).map { CChar(bitPattern: $0) }
        var count = Int64(bytes.count)
        MPI_Bcast(&count, 1, pleat_mpi_int64(), 0, pleat_mpi_comm_world())
        if rank != 0 { bytes = [CChar](repeating: 0, count: Int(count)) }
        bytes.withUnsafeMutableBufferPointer { _ = MPI_Bcast($0.baseAddress, Int32(count), pleat_mpi_char(), 0, pleat_mpi_comm_world()) }
        return String(decoding: bytes.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func barrier() {
        if isDistributed { MPI_Barrier(pleat_mpi_comm_world()) }
    }

    /// Ends the whole job after an error on this rank (the others may be waiting in a collective).
    public func abort(code: Int32) -> Never {
        if usesMPI { MPI_Abort(pleat_mpi_comm_world(), code) }
        exit(code)
    }

    private static func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    /// Values per exchange round: bounds the receive buffer to 16 MB whatever the gradient's size.
    static let chunk = 1 << 22

    /// A reduce-scatter and an all-gather, both in rank order: rank s receives slice s of every rank's
    /// values (`MPI_Alltoallv`), adds them in rank order, and every rank collects every summed slice
    /// (`MPI_Allgatherv`). Each rank sends and receives about twice its values whatever the number of
    /// ranks, and the sum of every element is formed in the same order on every run.
    private func orderedSum<T: FloatingPoint>(_ values: UnsafeMutableBufferPointer<T>, type: MPI_Datatype) {
        var received = [T](repeating: 0, count: (min(Self.chunk, values.count) + size - 1) / size * size)
        var counts = [Int32](repeating: 0, count: size), offsets = [Int32](repeating: 0, count: size)
        var receiveCounts = [Int32](repeating: 0, count: size), receiveOffsets = [Int32](repeating: 0, count: size)
        var start = 0
        while start < values.count {
            let n = min(Self.chunk, values.count - start)
            let part = values.baseAddress! + start
            for r in 0..<size {
                offsets[r] = Int32(n * r / size)
                counts[r] = Int32(n * (r + 1) / size) - offsets[r]
            }
            let mine = Int(counts[rank])
            for r in 0..<size { (receiveCounts[r], receiveOffsets[r]) = (Int32(mine), Int32(r * mine)) }
            received.withUnsafeMutableBufferPointer { slices in
                _ = MPI_Alltoallv(part, counts, offsets, type, slices.baseAddress, receiveCounts, receiveOffsets, type, pleat_mpi_comm_world())
                let sum = part + Int(offsets[rank])
                for i in 0..<mine {
                    var total = slices[i]
                    for r in 1..<size { total += slices[r * mine + i] }
                    sum[i] = total
                }
            }
            MPI_Allgatherv(pleat_mpi_in_place(), 0, type, part, counts, offsets, type, pleat_mpi_comm_world())
            start += n
        }
    }
}
