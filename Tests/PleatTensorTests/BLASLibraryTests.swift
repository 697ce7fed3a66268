import XCTest
import PleatCore
import PleatTestSupport
@testable import PleatTensor

/// The BLAS as this machine loads it, and the `pleat` binary's handling of forced kernels and old CPUs.
final class BLASLibraryTests: XCTestCase {
    func testTheLoadedKernelIsTheDecidedOne() throws {
        let library = try BLASLibrary.load()
        print("BLAS kernel in use: \(library.kernel) (the library picked \(library.pickedKernel)) on \(CPU.current.summary)")
        let request = try BLASKernelChoice.Request.from(environment: ProcessInfo.processInfo.environment, cpu: .current)
        switch BLASKernelChoice.decide(cpu: .current, picked: library.pickedKernel, request: request) {
        case .keep: XCTAssertEqual(library.kernel, library.pickedKernel)
        case .use(let kernel, _): XCTAssertEqual(library.kernel.lowercased(), kernel.rawValue.lowercased())
        }
        if case .automatic = request, let level = BLASKernel.vectorLevel(ofCoreName: library.kernel), CPU.current.vectorLevel >= .avx2 {
            XCTAssertGreaterThanOrEqual(level, .avx2, "an AVX2 or AVX-512 CPU never runs a narrower kernel by default")
        }
    }

    /// A product through the loaded kernel equals a plain triple loop (in Double) to Float32 rounding.
    func testProductsMatchAPlainLoop() {
        let (m, n, k) = (37, 29, 53)
        let a = GradientCheck.random([m, k], seed: 1), b = GradientCheck.random([n, k], seed: 2), c = Tensor([m, n])
        Gemm.multiply(a.pointer, b.pointer, transposeB: true, into: c.pointer, m: m, n: n, k: k)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0, magnitude = 0.0
                for t in 0..<k { sum += Double(a[i * k + t]) * Double(b[j * k + t]); magnitude += abs(Double(a[i * k + t]) * Double(b[j * k + t])) }
                // Any summation order of k Float32 products is within k·u·Σ|terms| of the exact sum.
                XCTAssertEqual(Double(c[i * n + j]), sum, accuracy: Double(k) * 0x1p-24 * magnitude)
            }
        }
    }

    func testAForcedKernelIsUsedAndABadOneIsAClearError() throws {
        let pleat = try Self.pleat()
        let generic = try Subprocess.capture(pleat, ["doctor", "--json"], environment: ["PLEAT_BLAS_KERNEL": "generic"])
        XCTAssertTrue(generic.succeeded, generic.output)
        XCTAssertTrue(generic.output.contains(#""kernel":"Prescott""#), generic.output)
        let bad = try Subprocess.capture(pleat, ["doctor"], environment: ["PLEAT_BLAS_KERNEL": "turbo"])
        XCTAssertEqual(bad.exitCode, 1)
        XCTAssertTrue(bad.output.contains("PLEAT_BLAS_KERNEL=turbo is not a BLAS kernel"), bad.output)
        XCTAssertFalse(bad.output.contains("Fatal error"), "an error, not a trap: \(bad.output)")
    }

    /// On a CPU without AVX2 (emulated), pleat stops before any x86-64-v3 code with the missing features.
    func testACPUWithoutAVX2GetsAMessageInsteadOfSIGILL() throws {
        let qemu = "/usr/bin/qemu-x86_64"
        guard FileManager.default.isExecutableFile(atPath: qemu) else { throw XCTSkip("qemu-user is not installed (scripts/setup.sh installs it)") }
        let outcome = try Subprocess.capture(qemu, ["-cpu", "Nehalem", try Self.pleat(), "doctor", "--json"])
        XCTAssertEqual(outcome.exitCode, 78, outcome.output)
        XCTAssertTrue(outcome.output.contains("lacks AVX2"), outcome.output)
        let fine = try Subprocess.capture(qemu, ["-cpu", "Haswell", try Self.pleat(), "--help"])
        XCTAssertTrue(fine.succeeded, "an x86-64-v3 CPU passes the check: \(fine.output)")
    }

    static func pleat() throws -> String {
        let path = TestDatabase.pleatExecutable.path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw XCTSkip("pleat is not built at \(path)") }
        return path
    }
}
