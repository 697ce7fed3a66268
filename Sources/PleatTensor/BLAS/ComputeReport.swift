import Foundation
import PleatCore

/// What `pleat doctor` reports: the CPU, the BLAS and its kernel, the threads, and the measured sgemm
/// rate per core against what the CPU's FMA units can do.
public struct ComputeReport: Codable, Sendable {
    public struct Processor: Codable, Sendable {
        public var modelName: String
        public var vendor: String
        public var family: Int
        public var model: Int
        public var features: [String]
        public var vectorLevel: String
        public var clockGhz: Double?
        public var fmaFlopsPerCycle: Int
        /// clock × FMA FLOPs per cycle: an upper bound for one core, not a promise (turbo and shared
        /// machines move it).
        public var peakGflopsPerCore: Double?
    }

    public struct BLAS: Codable, Sendable {
        public var library: String
        public var configuration: String
        /// The kernel in use, and the one OpenBLAS picked by itself.
        public var kernel: String
        public var pickedKernel: String
        /// Why the kernel in use differs from the library's pick, if it does.
        public var correction: String?
        /// Kernels this CPU can run (each can be forced with PLEAT_BLAS_KERNEL).
        public var kernelsOffered: [String]
        public var threadsPerCall: Int
    }

    public var cpu: Processor
    public var blas: BLAS
    /// Cores Pleat's layers split their work over.
    public var workerThreads: Int
    /// The CPUs this process may use, which `workerThreads` follows (at most 8).
    public var usableCpus: UsableCPUs
    public var sgemm: SgemmProbe.Result
    public var sgemmFractionOfPeak: Double?
    public var warnings: [String]

    /// Loads the BLAS (with its kernel choice) and measures it.
    public static func measure() throws -> ComputeReport {
        let library = try BLASLibrary.load(), cpu = CPU.current
        let clock = CPU.currentClockGHz()
        let peak = clock.map { $0 * Double(cpu.fmaFlopsPerCycle) }
        let probe = SgemmProbe.measure()
        var correction: String?
        if case .use(_, let reason) = library.choice { correction = reason }
        let fraction = peak.map { probe.gflops / $0 }
        return ComputeReport(
            cpu: Processor(modelName: cpu.modelName, vendor: cpu.vendor, family: cpu.family, model: cpu.model,
                           features: cpu.features.map(\.rawValue).sorted(), vectorLevel: cpu.vectorLevel.description, clockGhz: clock,
                           fmaFlopsPerCycle: cpu.fmaFlopsPerCycle, peakGflopsPerCore: peak),
            blas: BLAS(library: library.library, configuration: library.configuration, kernel: library.kernel,
                       pickedKernel: library.pickedKernel, correction: correction,
                       kernelsOffered: BLASKernel.allCases.filter { $0.runs(on: cpu) }.map(\.rawValue), threadsPerCall: 1),
            workerThreads: Parallel.workers, usableCpus: .current, sgemm: probe, sgemmFractionOfPeak: fraction,
            warnings: warnings(cpu: cpu, kernel: library.kernel, fractionOfPeak: fraction))
    }

    /// Below this share of the FMA peak the BLAS is not doing its job (a good kernel reaches 0.7-0.9 of it
    /// at these shapes on an idle core).
    public static let lowFraction = 0.5

    /// What is worth a warning: a kernel narrower than the CPU's vectors, or a measured rate under half
    /// the peak (which on a shared machine may also mean other work ran on the core: measure again).
    public static func warnings(cpu: CPU, kernel: String, fractionOfPeak: Double?) -> [String] {
        var out: [String] = []
        if let level = BLASKernel.vectorLevel(ofCoreName: kernel), level < cpu.vectorLevel {
            out.append("the BLAS kernel \(kernel) uses \(level) on a CPU with \(cpu.vectorLevel): products run well below the CPU's speed")
        }
        if let fraction = fractionOfPeak, fraction < lowFraction {
            out.append(String(format: "sgemm reached %.0f%% of this core's FMA peak (below %.0f%%): a slow kernel, or other work on the "
                              + "machine during the measurement (run pleat doctor again)", fraction * 100, lowFraction * 100))
        }
        return out
    }
}
