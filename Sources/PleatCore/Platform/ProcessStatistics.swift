import Foundation

/// What the kernel says about this process now (Linux `/proc/self`; zeros where it says nothing), for
/// `/metrics` under Prometheus' standard `process_*` names.
public struct ProcessStatistics: Sendable {
    /// User and system CPU time so far.
    public var cpuSeconds: Double
    /// Resident memory now (not the peak: `PeakMemory` has that).
    public var residentBytes: Int
    public var openFileDescriptors: Int
    public var threads: Int

    public static func current() -> ProcessStatistics {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        // statm: size resident shared … in pages.
        let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
        let resident = statm.count > 1 ? (Int(statm[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let threads = status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
            .flatMap { Int($0.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        return ProcessStatistics(cpuSeconds: cpu, residentBytes: resident, openFileDescriptors: descriptors, threads: threads)
    }
}
