import CPleatCPU
import Foundation

/// The CPUs this process may use: the machine's online CPUs, cut to its affinity mask (`taskset`, a
/// container's cpuset) and to its cgroup CPU quota (a container's `--cpus`, a systemd `CPUQuota=`),
/// rounded up. `activeProcessorCount` sees neither, so a process under `taskset -c 0` would start a
/// worker per core of the machine and one in a container of 2 of 64 cores eight.
public struct UsableCPUs: Sendable, Codable, Equatable {
    /// CPUs online on the machine.
    public var online: Int
    /// CPUs in the affinity mask (nil: unknown).
    public var affinity: Int?
    /// The tightest cgroup quota on the way to the root, in CPUs' worth of time (nil: none).
    public var quota: Double?

    /// What Pleat sizes its threads by.
    public var count: Int {
        var usable = online
        if let affinity, affinity > 0 { usable = min(usable, affinity) }
        if let quota { usable = min(usable, Int(quota.rounded(.up))) }
        return max(1, usable)
    }

    /// Read once per process: neither the mask nor the quota is expected to change while it runs.
    public static let current = UsableCPUs(
        online: max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
        affinity: Int(pleat_affinity_cpu_count()).nonNegative,
        quota: cgroupQuota(processCgroups: (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? "",
                           read: { try? String(contentsOfFile: $0, encoding: .utf8) }))

    /// The tightest CPU quota of the cgroups in `processCgroups` (the text of /proc/self/cgroup) and
    /// their ancestors: cgroup v2's `cpu.max` ("max 100000", "150000 100000") and v1's
    /// `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1: none). `read` gives a file's text (nil: absent);
    /// a container's own cgroup often shows as "/" while its files sit at the mount point, so that is
    /// read too.
    static func cgroupQuota(processCgroups: String, mountPoint: String = "/sys/fs/cgroup", read: (String) -> String?) -> Double? {
        var tightest: Double?
        func consider(_ quota: Double?) { if let quota, quota > 0 { tightest = min(tightest ?? quota, quota) } }
        for line in processCgroups.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let controllers = fields[1], path = String(fields[2])
            if controllers.isEmpty {  // v2: one hierarchy
                for directory in ancestors(of: path) { consider(read(mountPoint + directory + "/cpu.max").flatMap(v2Quota)) }
            } else if controllers.split(separator: ",").contains("cpu") {  // v1: mounted as cpu,cpuacct and (a link) cpu
                for base in Set([mountPoint + "/" + controllers, mountPoint + "/cpu"]) {
                    for directory in ancestors(of: path) { consider(v1Quota(at: base + directory, read: read)) }
                }
            }
        }
        return tightest
    }

    /// `cpu.max`: "QUOTA PERIOD" in microseconds, or "max PERIOD" for none.
    static func v2Quota(_ text: String) -> Double? {
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let quota = Double(fields[0]), let period = Double(fields[1]), period > 0 else { return nil }
        return quota / period
    }

    private static func v1Quota(at directory: String, read: (String) -> String?) -> Double? {
        guard let quota = read(directory + "/cpu.cfs_quota_us").flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
              let period = read(directory + "/cpu.cfs_period_us").flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
              quota > 0, period > 0 else { return nil }
        return quota / period
    }

    /// "/a/b" → ["/a/b", "/a", ""] (the last is the mount point itself).
    private static func ancestors(of path: String) -> [String] {
        var parts = path.split(separator: "/").map(String.init)
        var out: [String] = []
        while true {
            out.append(parts.isEmpty ? "" : "/" + parts.joined(separator: "/"))
            if parts.isEmpty { return out }
            parts.removeLast()
        }
    }
}

private extension Int {
    var nonNegative: Int? { self >= 0 ? self : nil }
}
