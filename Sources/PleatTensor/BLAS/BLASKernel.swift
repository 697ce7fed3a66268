import PleatCore

/// An OpenBLAS kernel family (its "core type"), with what it needs from the CPU.
///
/// Debian's OpenBLAS is built with DYNAMIC_ARCH: it holds kernels for many CPUs and picks one when it
/// loads, by CPU model. A CPU newer than the library (Intel family 6 model 207 for 0.3.21) gets the
/// generic `Prescott` kernel, about a third of the speed; `OPENBLAS_CORETYPE` picks one by name.
public enum BLASKernel: String, CaseIterable, Sendable, Codable {
    /// SSE3: the generic fallback, correct on every x86-64 CPU Pleat runs on, and slow.
    case prescott = "Prescott"
    case nehalem = "Nehalem"
    case sandybridge = "Sandybridge"
    case haswell = "Haswell"
    case zen = "Zen"
    case skylakeX = "SkylakeX"
    case cooperlake = "Cooperlake"
    case sapphireRapids = "SapphireRapids"

    /// The CPU features its code uses.
    public var requiredFeatures: Set<CPU.Feature> {
        switch self {
        case .prescott: [.sse3]
        case .nehalem: [.sse3, .ssse3, .sse41, .sse42]
        case .sandybridge: [.avx]
        case .haswell, .zen: [.avx, .avx2, .fma]
        case .skylakeX: [.avx2, .fma, .avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl]
        case .cooperlake: [.avx2, .fma, .avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl, .avx512bf16]
        case .sapphireRapids: [.avx2, .fma, .avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl, .avx512bf16, .avx512fp16]
        }
    }

    public var vectorLevel: CPU.VectorLevel {
        switch self {
        case .prescott, .nehalem: .sse
        case .sandybridge: .avx
        case .haswell, .zen: .avx2
        case .skylakeX, .cooperlake, .sapphireRapids: .avx512
        }
    }

    public func runs(on cpu: CPU) -> Bool { cpu.features.isSuperset(of: requiredFeatures) }

    /// A kernel named as OpenBLAS names it, in any letter case; "generic" is `Prescott`.
    public init?(name: String) {
        let lowered = name.lowercased()
        if lowered == "generic" { self = .prescott; return }
        guard let kernel = Self.allCases.first(where: { $0.rawValue.lowercased() == lowered }) else { return nil }
        self = kernel
    }

    /// The vector width of any core type OpenBLAS 0.3.x may report (`openblas_get_corename()`), including
    /// those Pleat never forces; nil for a name it does not know.
    public static func vectorLevel(ofCoreName name: String) -> CPU.VectorLevel? {
        if let kernel = BLASKernel(name: name) { return kernel.vectorLevel }
        switch name.lowercased() {
        case "katmai", "coppermine", "northwood", "banias", "atom", "core2", "penryn", "dunnington",
             "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "bobcat":
            return .sse
        case "bulldozer", "piledriver", "steamroller", "excavator":
            return .avx
        default:
            return nil
        }
    }

    /// The kernel Pleat uses on a CPU when OpenBLAS's own pick falls short: the widest vectors the CPU has.
    /// `SkylakeX` for AVX-512 (its sgemm is also what `Cooperlake` uses), `Zen` or `Haswell` for AVX2.
    public static func best(for cpu: CPU) -> BLASKernel? {
        switch cpu.vectorLevel {
        case .avx512: .skylakeX
        case .avx2: cpu.isAMD ? .zen : .haswell
        case .avx, .sse: nil
        }
    }
}
