import Foundation

/// Open MPI's C library, loaded when a launcher started this process and not before.
///
/// Pleat does not link `libmpi`: a binary linked against it would not start at all on a machine without
/// Open MPI, although it only needs MPI under `mpirun` or `srun`. So, as with OpenBLAS, the library is
/// opened at run time (`PLEAT_MPI_LIBRARY`, default `libmpi.so.40` of Debian's `libopenmpi3`, which
/// `openmpi-bin` installs) with its symbols global, as Open MPI's own plugins need. Open MPI's
/// predefined handles (`MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`, …) are the addresses of its globals
/// `ompi_mpi_*`; the function types below are those of `mpi.h` with its handles as raw pointers.
final class MPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    typealias Comm = Handle
    typealias Datatype = Handle
    typealias Op = Handle
    typealias InitThreadFunction = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?, Int32, UnsafeMutablePointer<Int32>?) -> Int32
    typealias CommRankFunction = @convention(c) (Comm, UnsafeMutablePointer<Int32>) -> Int32
    typealias CommSizeFunction = @convention(c) (Comm, UnsafeMutablePointer<Int32>) -> Int32
    typealias AllreduceFunction = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Datatype, Op, Comm) -> Int32
    typealias BcastFunction = @convention(c) (UnsafeMutableRawPointer?, Int32, Datatype, Int32, Comm) -> Int32
    typealias BarrierFunction = @convention(c) (Comm) -> Int32
    typealias AbortFunction = @convention(c) (Comm, Int32) -> Int32
    typealias FinalizedFunction = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    typealias FinalizeFunction = @convention(c) () -> Int32
    typealias AlltoallvFunction = @convention(c) (UnsafeRawPointer?, UnsafePointer<Int32>, UnsafePointer<Int32>, Datatype,
                                                  UnsafeMutableRawPointer?, UnsafePointer<Int32>, UnsafePointer<Int32>, Datatype, Comm) -> Int32
    typealias AllgathervFunction = @convention(c) (UnsafeRawPointer?, Int32, Datatype, UnsafeMutableRawPointer?, UnsafePointer<Int32>,
                                                   UnsafePointer<Int32>, Datatype, Comm) -> Int32

    let initThread: InitThreadFunction
    let commRank: CommRankFunction
    let commSize: CommSizeFunction
    let allreduce: AllreduceFunction
    let bcast: BcastFunction
    let barrier: BarrierFunction
    let abort: AbortFunction
    let finalized: FinalizedFunction
    let finalize: FinalizeFunction
    let alltoallv: AlltoallvFunction
    let allgatherv: AllgathervFunction

    let commWorld: Comm
    let float: Datatype, double: Datatype, int64: Datatype, char: Datatype
    let sum: Op, max: Op
    /// `MPI_IN_PLACE` in Open MPI's `mpi.h`. Cannot fail: only bit pattern 0 gives no pointer.
    let inPlace = UnsafeMutableRawPointer(bitPattern: 1)!
    /// `MPI_THREAD_FUNNELED`: only the thread that called `MPI_Init_thread` makes MPI calls.
    static let threadFunneled: Int32 = 1

    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    init() throws {
        let path = ProcessInfo.processInfo.environment["PLEAT_MPI_LIBRARY"] ?? "libmpi.so.40"
        guard let library = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            throw LoadError(description: "started by an MPI launcher, but \(path) cannot be loaded (\(String(cString: dlerror()))): "
                            + "install Open MPI (Debian: openmpi-bin) or set PLEAT_MPI_LIBRARY")
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let address = dlsym(library, name) else { throw LoadError(description: "\(path) has no \(name): not Open MPI?") }
            return address
        }
        func function<F>(_ name: String, as type: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: type) }
        initThread = try function("MPI_Init_thread", as: InitThreadFunction.self)
        commRank = try function("MPI_Comm_rank", as: CommRankFunction.self)
        commSize = try function("MPI_Comm_size", as: CommSizeFunction.self)
        allreduce = try function("MPI_Allreduce", as: AllreduceFunction.self)
        bcast = try function("MPI_Bcast", as: BcastFunction.self)
        barrier = try function("MPI_Barrier", as: BarrierFunction.self)
        abort = try function("MPI_Abort", as: AbortFunction.self)
        finalized = try function("MPI_Finalized", as: FinalizedFunction.self)
        finalize = try function("MPI_Finalize", as: FinalizeFunction.self)
        alltoallv = try function("MPI_Alltoallv", as: AlltoallvFunction.self)
        allgatherv = try function("MPI_Allgatherv", as: AllgathervFunction.self)
        commWorld = try symbol("ompi_mpi_comm_world")
        (float, double, int64, char) = (try symbol("ompi_mpi_float"), try symbol("ompi_mpi_double"),
                                        try symbol("ompi_mpi_int64_t"), try symbol("ompi_mpi_char"))
        (sum, max) = (try symbol("ompi_mpi_op_sum"), try symbol("ompi_mpi_op_max"))
    }
}
