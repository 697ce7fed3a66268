import XCTest
@testable import PleatCore

/// The CPUs a process may use, from the affinity mask and cgroup quotas (files given as text).
final class UsableCPUsTests: XCTestCase {
    func testTheTightestLimitWinsRoundedUp() {
        XCTAssertEqual(UsableCPUs(online: 64, affinity: 64, quota: nil).count, 64)
        XCTAssertEqual(UsableCPUs(online: 64, affinity: 1, quota: nil).count, 1, "taskset -c 0")
        XCTAssertEqual(UsableCPUs(online: 64, affinity: 64, quota: 1.5).count, 2, "a quota of 1.5 CPUs uses 2 threads")
        XCTAssertEqual(UsableCPUs(online: 2, affinity: nil, quota: 8).count, 2)
        XCTAssertEqual(UsableCPUs(online: 4, affinity: 3, quota: 0.2).count, 1)
    }

    func testCgroupV2QuotaIsTheTightestOnTheWayToTheRoot() {
        let files = [
            "/sys/fs/cgroup/cpu.max": "max 100000\n",
            "/sys/fs/cgroup/kubepods/cpu.max": "400000 100000\n",
            "/sys/fs/cgroup/kubepods/pod1/cpu.max": "150000 100000\n",
            "/sys/fs/cgroup/kubepods/pod1/box/cpu.max": "max 100000\n",
        ]
        XCTAssertEqual(UsableCPUs.cgroupQuota(processCgroups: "0::/kubepods/pod1/box\n", read: { files[$0] }), 1.5)
        XCTAssertNil(UsableCPUs.cgroupQuota(processCgroups: "0::/\n", read: { files[$0] }), "max: no quota")
        // A container's own cgroup shows as "/" and its limit sits at the mount point.
        XCTAssertEqual(UsableCPUs.cgroupQuota(processCgroups: "0::/\n", read: { $0 == "/sys/fs/cgroup/cpu.max" ? "200000 100000" : nil }), 2)
    }

    func testCgroupV1Quota() {
        let files = [
            "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "50000\n",
            "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
            "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
            "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
        ]
        let cgroups = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n"
        XCTAssertEqual(UsableCPUs.cgroupQuota(processCgroups: cgroups, read: { files[$0] }), 0.5)
        XCTAssertNil(UsableCPUs.cgroupQuota(processCgroups: "1:cpu:/\n", read: { files[$0] }), "-1: no quota")
    }

    /// This process: the mask the kernel reports is at most the CPUs online.
    func testThisProcess() {
        let usable = UsableCPUs.current
        XCTAssertGreaterThan(usable.online, 0)
        if let affinity = usable.affinity { XCTAssertTrue((1...usable.online).contains(affinity)) }
        XCTAssertTrue((1...usable.online).contains(usable.count))
    }
}
