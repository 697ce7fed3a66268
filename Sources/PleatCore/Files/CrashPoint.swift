import Foundation

/// Named points where a process writes something that must survive a crash. A test names one in
/// `PLEAT_CRASH_POINT` (`name`, or `name:N` for its N-th passage) and the process kills itself with
/// SIGKILL there, as `kill -9` would at that moment; the test then checks that what is on disk can be
/// used or resumed. Without the variable, `reach` does nothing.
public enum CrashPoint {
    private static let wanted: (name: String, occurrence: Int)? = {
        let environment = ProcessInfo.processInfo.environment
        guard let value = environment["PLEAT_CRASH_POINT"], !value.isEmpty else { return nil }
        // Under mpirun, PLEAT_CRASH_RANK=R kills only rank R.
        if let rank = environment["PLEAT_CRASH_RANK"], rank != environment["OMPI_COMM_WORLD_RANK"] ?? "0" { return nil }
        let parts = value.split(separator: ":")
        return (String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }()
    nonisolated(unsafe) private static var passages: [String: Int] = [:]
    private static let lock = NSLock()

    public static func reach(_ name: String) {
        guard let wanted, wanted.name == name else { return }
        let count = lock.withLock { passages[name, default: 0] += 1; return passages[name, default: 0] }
        if count == wanted.occurrence { kill(getpid(), SIGKILL) }
    }
}
