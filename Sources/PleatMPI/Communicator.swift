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
    /// Open MPI, when a launcher started this process.
    private let mpi: MPILibrary?

    /// This process alone.
    public static let single = Communicator(rank: 0, size: 1, mpi: nil)

    private init(rank: Int, size: Int, mpi: MPILibrary?) { (self.rank, self.size, self.mpi) = (rank, size, mpi) }

    /// The job this process belongs to: MPI is loaded and initialised on first use when a launcher
    /// started this process; an error says why it could not be.
    public static func world() throws -> Communicator { try started.get() }

    private static let started: Result<Communicator, Error> = Result {
        guard launchedByMPI else { return single }
        let mpi = try MPILibrary()
        var provided: Int32 = 0
        // Funneled: only the thread that trains calls MPI (OpenBLAS's threads never do).
        _ = mpi.initThread(nil, nil, MPILibrary.threadFunneled, &provided)
        var rank: Int32 = 0, size: Int32 = 0
        _ = mpi.commRank(mpi.commWorld, &rank)
        _ = mpi.commSize(mpi.commWorld, &size)
        atexit { Communicator.finalize() }
        return Communicator(rank: Int(rank), size: Int(size), mpi: mpi)
    }

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
        guard isDistributed, let library = mpi else { return }
        orderedSum(values, type: library.float, library)
    }

    /// Sums `values` over the ranks, in rank order, into every rank's `values`.
    public func sumInRankOrder(_ values: inout [Double]) {
        guard isDistributed, let library = mpi else { return }
        values.withUnsafeMutableBufferPointer { orderedSum($0, type: library.double, library) }
    }

    /// Exact integer sums over the ranks (any order gives the same result).
    public func sum(_ values: inout [Int64]) {
        guard isDistributed, let library = mpi, !values.isEmpty else { return }
        values.withUnsafeMutableBufferPointer {
            _ = library.allreduce(library.inPlace, $0.baseAddress, Int32($0.count), library.int64, library.sum, library.commWorld)
        }
    }

    public func sum(_ value: Int) -> Int {
        var values = [Int64(value)]
        sum(&values)
        return Int(values[0])
    }

    public func maximum(_ value: Int) -> Int {
        guard isDistributed, let library = mpi else { return value }
        var v = Int64(value)
        _ = library.allreduce(library.inPlace, &v, 1, library.int64, library.max, library.commWorld)
        return Int(v)
    }

    /// Rank 0's `text` on every rank (the others' arguments are ignored).
    public func broadcast(_ text: String) -> String {
        guard isDistributed, let library = mpi else { return text }
        var bytes = Array(text.utf8).map { CChar(bitPattern: $0) }
        var count = Int64(bytes.count)
        _ = library.bcast(&count, 1, library.int64, 0, library.commWorld)
        if rank != 0 { bytes = [CChar](repeating: 0, count: Int(count)) }
        bytes.withUnsafeMutableBufferPointer { _ = library.bcast($0.baseAddress, Int32(count), library.char, 0, library.commWorld) }
        return String(decoding: bytes.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func barrier() {
        if isDistributed, let library = mpi { _ = library.barrier(library.commWorld) }
    }

    /// Ends the whole job after an error on this rank (the others may be waiting in a collective).
    public func abort(code: Int32) -> Never {
        if let mpi { _ = mpi.abort(mpi.commWorld, code) }
        exit(code)
    }

    private static func finalize() {
        guard case .success(let world) = started, let mpi = world.mpi else { return }
        var finalized: Int32 = 0
        _ = mpi.finalized(&finalized)
        if finalized == 0 { _ = mpi.finalize() }
    }

    /// Values per exchange round: bounds the receive buffer to 16 MB whatever the gradient's size.
    static let chunk = 1 << 22

    /// A reduce-scatter and an all-gather, both in rank order: rank s receives slice s of every rank's
    /// values (`MPI_Alltoallv`), adds them in rank order, and every rank collects every summed slice
    /// (`MPI_Allgatherv`). Each rank sends and receives about twice its values whatever the number of
    /// ranks, and the sum of every element is formed in the same order on every run.
    private func orderedSum<T: FloatingPoint>(_ values: UnsafeMutableBufferPointer<T>, type: MPILibrary.Datatype, _ library: MPILibrary) {
        guard let base = values.baseAddress else { return }  // nothing to sum
        var received = [T](repeating: 0, count: (min(Self.chunk, values.count) + size - 1) / size * size)
        var counts = [Int32](repeating: 0, count: size), offsets = [Int32](repeating: 0, count: size)
        var receiveCounts = [Int32](repeating: 0, count: size), receiveOffsets = [Int32](repeating: 0, count: size)
        var start = 0
        while start < values.count {
            let n = min(Self.chunk, values.count - start)
            let part = base + start
            for r in 0..<size {
                offsets[r] = Int32(n * r / size)
                counts[r] = Int32(n * (r + 1) / size) - offsets[r]
            }
            let mine = Int(counts[rank])
            for r in 0..<size { (receiveCounts[r], receiveOffsets[r]) = (Int32(mine), Int32(r * mine)) }
            received.withUnsafeMutableBufferPointer { slices in
                _ = library.alltoallv(part, counts, offsets, type, slices.baseAddress, receiveCounts, receiveOffsets, type, library.commWorld)
                let sum = part + Int(offsets[rank])
                for i in 0..<mine {
                    var total = slices[i]
                    for r in 1..<size { total += slices[r * mine + i] }
                    sum[i] = total
                }
            }
            _ = library.allgatherv(library.inPlace, 0, type, part, counts, offsets, type, library.commWorld)
            start += n
        }
    }
}
