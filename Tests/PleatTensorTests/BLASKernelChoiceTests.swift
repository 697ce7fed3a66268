import XCTest
import PleatCore
@testable import PleatTensor

/// The kernel decision over the CPUs Pleat meets, without needing those machines.
final class BLASKernelChoiceTests: XCTestCase {
    static let avx512: Set<CPU.Feature> = [.sse3, .ssse3, .sse41, .sse42, .avx, .avx2, .fma, .bmi1, .bmi2, .f16c, .lzcnt, .movbe,
                                           .avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl]
    static let avx2: Set<CPU.Feature> = [.sse3, .ssse3, .sse41, .sse42, .avx, .avx2, .fma, .bmi1, .bmi2, .f16c, .lzcnt, .movbe]
    /// Intel Xeon family 6 model 207 (Emerald Rapids): AVX-512 with BF16 and FP16, unknown to OpenBLAS 0.3.21.
    static let xeon207 = CPU(vendor: "GenuineIntel", family: 6, model: 207, features: avx512.union([.avx512bf16, .avx512fp16, .amxTile]))
    static let zen4 = CPU(vendor: "AuthenticAMD", family: 25, model: 17, features: avx512.union([.avx512bf16]))
    static let zen3 = CPU(vendor: "AuthenticAMD", family: 25, model: 1, features: avx2)
    static let haswell = CPU(vendor: "GenuineIntel", family: 6, model: 63, features: avx2)
    static let sandyBridge = CPU(vendor: "GenuineIntel", family: 6, model: 42, features: [.sse3, .ssse3, .sse41, .sse42, .avx])

    func testAGenericFallbackIsReplacedByTheCPUsWidestKernel() {
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.xeon207, picked: "Prescott", request: .automatic).kernel, .skylakeX)
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.haswell, picked: "Prescott", request: .automatic).kernel, .haswell)
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.zen3, picked: "Nehalem", request: .automatic).kernel, .zen)
        // An AVX2 kernel on an AVX-512 CPU is narrower than it could be.
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.xeon207, picked: "Haswell", request: .automatic).kernel, .skylakeX)
    }

    func testAFittingPickIsKept() {
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.zen4, picked: "Cooperlake", request: .automatic), .keep)
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.zen3, picked: "Zen", request: .automatic), .keep)
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.haswell, picked: "Haswell", request: .automatic), .keep)
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.xeon207, picked: "SkylakeX", request: .automatic), .keep)
        // No AVX2: nothing better to switch to; an unknown name cannot be judged.
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.sandyBridge, picked: "Prescott", request: .automatic), .keep)
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.zen4, picked: "Zen6Turbo", request: .automatic), .keep)
    }

    func testAForcedKernelIsUsedEvenWhenSlower() {
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.zen4, picked: "Cooperlake", request: .forced(.prescott)).kernel, .prescott)
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.zen4, picked: "Cooperlake", request: .forced(.cooperlake)), .keep)
        // The reason names the variable that forced it, OpenBLAS's own included.
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.zen4, picked: "Cooperlake", request: .forced(.haswell, by: "OPENBLAS_CORETYPE")),
                       .use(.haswell, reason: "forced by OPENBLAS_CORETYPE"))
        XCTAssertEqual(BLASKernelChoice.decide(cpu: Self.zen4, picked: "Cooperlake", request: .forced(.haswell)),
                       .use(.haswell, reason: "forced by PLEAT_BLAS_KERNEL"))
    }

    func testTheRequestComesFromTheEnvironmentAndBadValuesAreClearErrors() throws {
        typealias Request = BLASKernelChoice.Request
        XCTAssertEqual(try Request.from(environment: [:], cpu: Self.zen4), .automatic)
        XCTAssertEqual(try Request.from(environment: ["PLEAT_BLAS_KERNEL": "auto"], cpu: Self.zen4), .automatic)
        XCTAssertEqual(try Request.from(environment: ["PLEAT_BLAS_KERNEL": "generic"], cpu: Self.zen4), .forced(.prescott))
        XCTAssertEqual(try Request.from(environment: ["PLEAT_BLAS_KERNEL": "HASWELL"], cpu: Self.zen4), .forced(.haswell))
        XCTAssertEqual(try Request.from(environment: ["OPENBLAS_CORETYPE": "SkylakeX"], cpu: Self.zen4),
                       .forced(.skylakeX, by: "OPENBLAS_CORETYPE"))
        // Pleat's own variable wins over OpenBLAS's.
        XCTAssertEqual(try Request.from(environment: ["PLEAT_BLAS_KERNEL": "zen", "OPENBLAS_CORETYPE": "SkylakeX"], cpu: Self.zen4),
                       .forced(.zen))
        XCTAssertThrowsError(try Request.from(environment: ["PLEAT_BLAS_KERNEL": "fastest"], cpu: Self.zen4)) { error in
            XCTAssertTrue("\(error)".contains("PLEAT_BLAS_KERNEL=fastest is not a BLAS kernel"), "\(error)")
            XCTAssertTrue("\(error)".contains("Haswell"), "lists the valid names: \(error)")
        }
        XCTAssertThrowsError(try Request.from(environment: ["PLEAT_BLAS_KERNEL": "SkylakeX"], cpu: Self.zen3)) { error in
            XCTAssertTrue("\(error)".contains("avx512"), "names the missing features: \(error)")
        }
    }

    func testKernelFeatureRequirements() {
        XCTAssertTrue(BLASKernel.prescott.runs(on: Self.sandyBridge))
        XCTAssertFalse(BLASKernel.haswell.runs(on: Self.sandyBridge))
        XCTAssertFalse(BLASKernel.cooperlake.runs(on: Self.zen3))
        XCTAssertTrue(BLASKernel.cooperlake.runs(on: Self.zen4))
        XCTAssertFalse(BLASKernel.sapphireRapids.runs(on: Self.zen4))
        XCTAssertEqual(Self.zen4.vectorLevel, .avx512)
        XCTAssertEqual(Self.sandyBridge.vectorLevel, .avx)
    }

    func testWarnings() {
        XCTAssertEqual(ComputeReport.warnings(cpu: Self.zen4, kernel: "Cooperlake", fractionOfPeak: 0.8), [])
        XCTAssertEqual(ComputeReport.warnings(cpu: Self.xeon207, kernel: "Prescott", fractionOfPeak: 0.8).count, 1)
        XCTAssertEqual(ComputeReport.warnings(cpu: Self.zen4, kernel: "Cooperlake", fractionOfPeak: 0.3).count, 1)
    }
}

extension BLASKernelChoice {
    var kernel: BLASKernel? { if case .use(let kernel, _) = self { kernel } else { nil } }
}
