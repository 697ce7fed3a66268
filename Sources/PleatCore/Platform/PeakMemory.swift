import Foundation

/// The process's peak resident memory so far (getrusage's ru_maxrss), in MB: what benchmarks report.
public enum PeakMemory {
    public static var residentMB: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
