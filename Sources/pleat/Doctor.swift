import ArgumentParser
import Foundation
import PleatCore
import PleatTensor

/// `pleat doctor`: is this machine set up to run Pleat at its speed?
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The CPU, the BLAS kernel in use and its measured speed per core against the CPU's peak.",
        discussion: "Force a kernel with PLEAT_BLAS_KERNEL=NAME (auto, generic, or a name from blas.kernels_offered).")

    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Measure every kernel this CPU can run (each in its own process) and print a table.") var kernels = false

    func run() throws {
        if kernels { return try compareKernels() }
        let report = try ComputeReport.measure()
        if json { try printJSONLine(report); return }
        let cpu = report.cpu, blas = report.blas
        var table = TextTable(["", ""])
        table.add(["CPU", "\(cpu.modelName) (\(cpu.vendor) family \(cpu.family) model \(cpu.model))"])
        table.add(["vectors", "\(cpu.vectorLevel); \(cpu.features.joined(separator: " "))"])
        table.add(["FMA peak per core", cpu.peakGflopsPerCore.map {
            String(format: "%.0f GFLOP/s (%.2f GHz x %d FLOP/cycle)", $0, cpu.clockGhz ?? 0, cpu.fmaFlopsPerCycle) } ?? "unknown clock"])
        table.add(["BLAS", "\(blas.configuration) (\(blas.library))"])
        table.add(["kernel", blas.kernel + (blas.correction.map { " (\($0))" } ?? " (the library's own pick)")])
        table.add(["kernels offered", blas.kernelsOffered.joined(separator: ", ")])
        let usable = report.usableCpus
        table.add(["CPUs usable", "\(usable.count) of \(usable.online) online (affinity mask \(usable.affinity.map(String.init) ?? "unknown"), "
                   + "cgroup quota \(usable.quota.map { String(format: "%.2f CPUs", $0) } ?? "none"))"])
        table.add(["threads", "\(report.workerThreads) workers, BLAS \(blas.threadsPerCall) per call"])
        for shape in report.sgemm.shapes { table.add(["sgemm " + shape.shape, String(format: "%.1f GFLOP/s", shape.gflops)]) }
        table.add(["sgemm per core", String(format: "%.1f GFLOP/s", report.sgemm.gflops)
                   + (report.sgemmFractionOfPeak.map { String(format: ", %.0f%% of peak", $0 * 100) } ?? "")])
        print(table.render())
        for warning in report.warnings { print("warning: \(warning)") }
    }

    /// Runs `pleat doctor --json` once per kernel offered, alternating rounds so drift hits all alike.
    private func compareKernels() throws {
        let me = try ComputeReport.measure()
        let executable = CommandLine.arguments[0].hasPrefix("/") ? CommandLine.arguments[0] : "/proc/self/exe"
        var rates: [String: [Double]] = [:]
        for _ in 0..<3 {
            for kernel in me.blas.kernelsOffered {
                let output = try Subprocess.run(executable, ["doctor", "--json"], environment: [BLASKernelChoice.Request.variable: kernel])
                guard let line = output.split(separator: "\n").last,
                      let report = try? JSONDecoder.snakeCase.decode(ComputeReport.self, from: Data(line.utf8)) else { continue }
                rates[kernel, default: []].append(report.sgemm.gflops)
            }
        }
        let medians = rates.mapValues { $0.sorted()[$0.count / 2] }
        if json { try printJSONLine(["auto": me.blas.kernel].merging(medians.mapValues { String(format: "%.1f", $0) }) { a, _ in a }); return }
        var table = TextTable(["kernel", "sgemm GFLOP/s per core (median of 3)", ""])
        let best = medians.values.max() ?? 0
        for kernel in me.blas.kernelsOffered {
            guard let rate = medians[kernel] else { continue }
            table.add([kernel, String(format: "%.1f", rate), (kernel == me.blas.kernel ? "in use by default" : "")
                       + (rate == best ? (kernel == me.blas.kernel ? ", best" : "best") : "")])
        }
        print("CPU: \(CPU.current.summary)")
        print(table.render())
    }
}
