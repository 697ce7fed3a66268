import CPleatCPU
import Foundation

/// The processor Pleat runs on, read with cpuid: vendor, name, family and model, and the vector features
/// that both the CPU and the operating system support.
///
/// Pleat's kernels and its choice of BLAS kernel depend on these; `pleat doctor` prints them.
public struct CPU: Sendable, Equatable {
    public enum Feature: String, CaseIterable, Sendable, Codable {
        case sse3, ssse3, sse41 = "sse4.1", sse42 = "sse4.2", popcnt, avx, avx2, fma, bmi1, bmi2, f16c, lzcnt, movbe
        case avx512f, avx512cd, avx512bw, avx512dq, avx512vl, avx512bf16, avx512fp16, amxTile = "amx-tile"

        var bit: UInt32 {
            switch self {
            case .sse3: PLEAT_CPU_SSE3.rawValue
            case .ssse3: PLEAT_CPU_SSSE3.rawValue
            case .sse41: PLEAT_CPU_SSE41.rawValue
            case .sse42: PLEAT_CPU_SSE42.rawValue
            case .popcnt: PLEAT_CPU_POPCNT.rawValue
            case .avx: PLEAT_CPU_AVX.rawValue
            case .avx2: PLEAT_CPU_AVX2.rawValue
            case .fma: PLEAT_CPU_FMA.rawValue
            case .bmi1: PLEAT_CPU_BMI1.rawValue
            case .bmi2: PLEAT_CPU_BMI2.rawValue
            case .f16c: PLEAT_CPU_F16C.rawValue
            case .lzcnt: PLEAT_CPU_LZCNT.rawValue
            case .movbe: PLEAT_CPU_MOVBE.rawValue
            case .avx512f: PLEAT_CPU_AVX512F.rawValue
            case .avx512cd: PLEAT_CPU_AVX512CD.rawValue
            case .avx512bw: PLEAT_CPU_AVX512BW.rawValue
            case .avx512dq: PLEAT_CPU_AVX512DQ.rawValue
            case .avx512vl: PLEAT_CPU_AVX512VL.rawValue
            case .avx512bf16: PLEAT_CPU_AVX512BF16.rawValue
            case .avx512fp16: PLEAT_CPU_AVX512FP16.rawValue
            case .amxTile: PLEAT_CPU_AMX_TILE.rawValue
            }
        }
    }

    /// The widest vector instruction set usable here, the axis along which BLAS kernels and Pleat's own
    /// kernels are chosen.
    public enum VectorLevel: Int, Comparable, Sendable, Codable, CustomStringConvertible {
        case sse = 0, avx = 1, avx2 = 2, avx512 = 3

        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
        public var description: String { ["SSE", "AVX", "AVX2", "AVX-512"][rawValue] }
    }

    public var vendor: String
    public var modelName: String
    public var family: Int
    public var model: Int
    public var features: Set<Feature>

    public init(vendor: String, modelName: String = "", family: Int = 0, model: Int = 0, features: Set<Feature>) {
        (self.vendor, self.modelName, self.family, self.model, self.features) = (vendor, modelName, family, model, features)
    }

    /// This machine's processor.
    public static let current: CPU = {
        _ = pleat_cpu_check_linked()
        var info = pleat_cpu_info()
        pleat_cpu_read(&info)
        let vendor = withUnsafeBytes(of: info.vendor) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let brand = withUnsafeBytes(of: info.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return CPU(vendor: vendor, modelName: brand.trimmingCharacters(in: .whitespaces), family: Int(info.family),
                   model: Int(info.model), features: Set(Feature.allCases.filter { info.features & $0.bit != 0 }))
    }()

    public var isAMD: Bool { vendor == "AuthenticAMD" }

    public var vectorLevel: VectorLevel {
        if features.isSuperset(of: [.avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl]) { return .avx512 }
        if features.isSuperset(of: [.avx2, .fma]) { return .avx2 }
        if features.contains(.avx) { return .avx }
        return .sse
    }

    /// "AMD EPYC 9B14 (AuthenticAMD family 25 model 17)": the name and the numbers kernels are chosen by.
    public var summary: String {
        "\(modelName.isEmpty ? vendor : modelName) (\(vendor) family \(family) model \(model))"
    }

    /// Single-precision FLOPs one core can retire per cycle with fused multiply-adds: FMA units × lanes × 2.
    ///
    /// An estimate from the vendor's published microarchitecture (not measurable from cpuid): Intel's
    /// AVX-512 server cores have two 512-bit FMA units (64); AMD Zen 4 runs AVX-512 on two 256-bit units
    /// (32), Zen 5 on two 512-bit units (64); AVX2 cores two 256-bit units (32); AVX without FMA 16.
    public var fmaFlopsPerCycle: Int {
        switch vectorLevel {
        case .avx512: return isAMD && family == 25 ? 32 : 64
        case .avx2: return isAMD && family == 23 && model < 0x30 ? 16 : 32  // Zen 1 / Zen+: two 128-bit FMA units
        case .avx: return 16
        case .sse: return 8
        }
    }

    /// The clock the kernel reports for the first core (MHz in /proc/cpuinfo), in GHz; nil if unknown.
    public static func currentClockGHz() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("cpu MHz") {
            if let value = line.split(separator: ":").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
                return value / 1000
            }
        }
        return nil
    }
}
