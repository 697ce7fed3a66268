import PleatCore

/// Which BLAS kernel Pleat runs, decided from the CPU's features and the kernel the library picked on its
/// own: a pure function, so every case is unit-tested without the machine that has it.
public enum BLASKernelChoice: Equatable, Sendable {
    /// What the user asked for: `PLEAT_BLAS_KERNEL` (or OpenBLAS's own `OPENBLAS_CORETYPE`).
    public enum Request: Equatable, Sendable {
        case automatic
        /// `variable` names the setting that forced it, for the reason `pleat doctor` prints: a machine may
        /// set `OPENBLAS_CORETYPE` for every process without the user knowing.
        case forced(BLASKernel, by: String = Request.variable)

        /// The environment variable that forces a kernel, documented in docs/benchmarks/cpus-and-blas.md.
        public static let variable = "PLEAT_BLAS_KERNEL"

        /// Reads `PLEAT_BLAS_KERNEL`, else `OPENBLAS_CORETYPE`; `auto` or unset is automatic. A name that is
        /// not a kernel, or a kernel this CPU cannot run, is an error that says what would be valid.
        public static func from(environment: [String: String], cpu: CPU) throws -> Request {
            let (variable, value) = environment[Self.variable].map { (Self.variable, $0) }
                ?? environment["OPENBLAS_CORETYPE"].map { ("OPENBLAS_CORETYPE", $0) } ?? (Self.variable, "auto")
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.lowercased() == "auto" { return .automatic }
            let offered = BLASKernel.allCases.filter { $0.runs(on: cpu) }.map(\.rawValue).joined(separator: ", ")
            guard let kernel = BLASKernel(name: trimmed) else {
                throw BLASError(description: "\(variable)=\(value) is not a BLAS kernel Pleat knows; use auto, generic or one of "
                                + "\(BLASKernel.allCases.map(\.rawValue).joined(separator: ", ")) (this CPU runs: \(offered))")
            }
            guard kernel.runs(on: cpu) else {
                let missing = kernel.requiredFeatures.subtracting(cpu.features).map(\.rawValue).sorted().joined(separator: ", ")
                throw BLASError(description: "\(variable)=\(value): the \(kernel.rawValue) kernel needs \(missing), which this CPU "
                                + "(\(cpu.summary)) lacks; kernels it runs: \(offered)")
            }
            return .forced(kernel, by: variable)
        }
    }

    /// Keep the library's own pick.
    case keep
    /// Reload the library with this kernel: the user forced it, or the library's pick wastes the CPU.
    case use(BLASKernel, reason: String)

    /// The decision. A forced kernel is always used; otherwise the library's pick stands unless its vectors
    /// are narrower than an AVX2 or AVX-512 CPU's (a generic fallback on a CPU it does not know). An
    /// unknown core name stands too: Pleat cannot tell it is worse.
    public static func decide(cpu: CPU, picked: String, request: Request) -> BLASKernelChoice {
        if case .forced(let kernel, let variable) = request {
            return picked.lowercased() == kernel.rawValue.lowercased() ? .keep : .use(kernel, reason: "forced by \(variable)")
        }
        guard let pickedLevel = BLASKernel.vectorLevel(ofCoreName: picked), let best = BLASKernel.best(for: cpu),
              pickedLevel < best.vectorLevel else { return .keep }
        return .use(best, reason: "OpenBLAS picked \(picked) (\(pickedLevel)) on a CPU with \(cpu.vectorLevel)")
    }
}

public struct BLASError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(description: String) { self.description = description }
}
