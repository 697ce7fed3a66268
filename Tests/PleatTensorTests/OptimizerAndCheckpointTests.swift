import Foundation
import XCTest
import PleatCore
@testable import PleatTensor
import PleatTestSupport

final class OptimizerAndCheckpointTests: XCTestCase {
    /// `interpolate(towards:keeping:)`: each value k·own + (1 − k)·other's; stores of other models refused.
    func testInterpolationKeepsTheGivenShareOfEachValue() {
        func store(_ values: [Float]) -> ParameterStore {
            let s = ParameterStore()
            let p = s.make("w", shape: [2, 2])
            for (i, v) in values.enumerated() { p.value.pointer[i] = v }
            return s
        }
        let own = store([1, -2, 4, 0]), fresh = store([3, 2, -4, 8])
        own.interpolate(towards: fresh, keeping: 0.25)
        XCTAssertEqual(own["w"]!.value.array, [2.5, 1, -2, 6])
        XCTAssertEqual(fresh["w"]!.value.array, [3, 2, -4, 8], "the other store is read only")
    }

    func testAdamWMatchesTheReferenceFormulas() {
        let store = ParameterStore()
        let p = store.make("w", shape: [3])
        let frozenNorm = store.make("ln", shape: [1], decays: false)
        p.value.buffer.update(fromContentsOf: [1, -2, 0.5] as [Float])
        frozenNorm.value[0] = 1
        let adam = Adam(store)
        adam.weightDecay = 0.1
        var theta: [Double] = [1, -2, 0.5], m = [0.0, 0, 0], v = [0.0, 0, 0]
        let grads: [[Float]] = [[0.1, -0.3, 2], [0.2, 0.1, -1], [-0.5, 0.4, 0.3]]
        for (t, g) in grads.enumerated() {
            p.grad.buffer.update(fromContentsOf: g)
            frozenNorm.grad[0] = 0
            adam.update(lr: 0.01)
            for i in 0..<3 {
                m[i] = 0.9 * m[i] + 0.1 * Double(g[i])
                v[i] = 0.999 * v[i] + 0.001 * Double(g[i]) * Double(g[i])
                theta[i] *= 1 - 0.01 * 0.1
                let mh = m[i] / (1 - pow(0.9, Double(t + 1))), vh = v[i] / (1 - pow(0.999, Double(t + 1)))
                theta[i] -= 0.01 * mh / (vh.squareRoot() + 1e-8)
            }
        }
        for i in 0..<3 { XCTAssertEqual(Double(p.value[i]), theta[i], accuracy: 1e-6) }
        XCTAssertEqual(frozenNorm.value[0], 1, "no weight decay on parameters marked decays: false")
        XCTAssertEqual(adam.step, 3)
    }

    func testLazyRowsLeaveUntouchedRowsAlone() {
        let store = ParameterStore()
        let table = store.make("items.weight", shape: [3, 2])
        table.value.fill(1)
        let adam = Adam(store)
        adam.lazyRows = ["items.weight"]
        table.grad.buffer.update(fromContentsOf: [0, 0, 0.5, -0.5, 0, 0] as [Float])
        adam.update(lr: 0.1)
        table.grad.zero()
        adam.update(lr: 0.1)
        XCTAssertEqual(Array(table.value.array[0..<2]), [1, 1])
        XCTAssertEqual(Array(table.value.array[4..<6]), [1, 1])
        XCTAssertNotEqual(table.value[2], 1)
    }

    func testClippingAndSchedules() {
        let store = ParameterStore()
        let p = store.make("w", shape: [2])
        p.grad.buffer.update(fromContentsOf: [3, 4] as [Float])
        XCTAssertEqual(store.clipGradients(maxNorm: 1), 5, accuracy: 1e-9)
        XCTAssertEqual(store.gradientNorm(), 1, accuracy: 1e-5)
        XCTAssertEqual(LearningRateSchedule.warmup(peak: 1, warmup: 10).rate(step: 5), 0.5)
        XCTAssertEqual(LearningRateSchedule.warmupLinearDecay(peak: 1e-4, warmup: 100, total: 400_000).rate(step: 200_000), 5e-5, accuracy: 1e-9)
        XCTAssertEqual(LearningRateSchedule.warmupCosine(peak: 2, warmup: 0, total: 10).rate(step: 5), 1, accuracy: 1e-6)
    }

    func testSafeTensorsRoundTripIsExactAndShapesAreChecked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = ParameterStore()
        var rng = RandomSource(seed: 61)
        for (name, shape) in [("a.weight", [3, 4]), ("b.bias", [5]), ("c", [2, 1, 3])] {
            Initializer.normal(store.make(name, shape: shape).value, std: 1, rng: &rng)
        }
        let adam = Adam(store)
        for p in store.parameters { Initializer.normal(p.grad, std: 1, rng: &rng) }
        adam.update(lr: 0.01)
        try Checkpoint.save(store, optimizer: adam, to: dir, metadata: ["kind": "test"])

        let copy = ParameterStore()
        for p in store.parameters { _ = copy.make(p.name, shape: p.shape) }
        let copyAdam = Adam(copy)
        let metadata = try Checkpoint.load(copy, optimizer: copyAdam, from: dir)
        XCTAssertEqual(metadata["kind"], "test")
        XCTAssertEqual(copyAdam.step, 1)
        for (a, b) in zip(store.parameters, copy.parameters) { XCTAssertEqual(a.value.array, b.value.array) }
        for i in 0..<3 {
            XCTAssertEqual(adam.first[i].array, copyAdam.first[i].array)
            XCTAssertEqual(adam.second[i].array, copyAdam.second[i].array)
        }
        let wrong = ParameterStore()
        _ = wrong.make("a.weight", shape: [4, 3])
        XCTAssertThrowsError(try Checkpoint.load(wrong, optimizer: nil, from: dir)) { error in
            XCTAssertTrue("\(error)".contains("shape"), "\(error)")
        }
        // A checkpoint that is gone (its directory removed under a running job) is named in the error.
        let gone = dir.appendingPathComponent("missing")
        XCTAssertThrowsError(try Checkpoint.load(copy, optimizer: nil, from: gone)) { error in
            XCTAssertTrue("\(error)".contains(gone.path) && "\(error)".contains("cannot read"), "\(error)")
        }
        // The header layout: 8-byte length, then JSON padded to a multiple of 8.
        let data = try Data(contentsOf: dir.appendingPathComponent("model.safetensors"))
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(length % 8, 0)
        XCTAssertEqual(data.count, 8 + length + (12 + 5 + 6) * 4)
    }

    func testPythonSafetensorsReadsPleatWeights() throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import safetensors.numpy"]
        check.standardError = FileHandle.nullDevice
        try check.run(); check.waitUntilExit()
        guard check.terminationStatus == 0 else { throw XCTSkip("python3 safetensors is not installed (scripts/setup.sh installs it)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-py-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = ParameterStore()
        store.make("encoder.layer0.weight", shape: [2, 3]).value.buffer.update(fromContentsOf: [1, 2, 3, 4, 5, 6.5] as [Float])
        try Checkpoint.save(store, optimizer: nil, to: dir)
        let read = Process()
        read.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        read.arguments = ["python3", "-c", """
            import sys; from safetensors.numpy import load_file
            t = load_file(sys.argv[1])["encoder.layer0.weight"]
            print(t.shape, t.dtype, float(t.sum()))
            """, dir.appendingPathComponent("model.safetensors").path]
        let pipe = Pipe()
        read.standardOutput = pipe
        try read.run(); read.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "(2, 3) float32 21.5")
    }
}
