import XCTest
@testable import PleatMPI

/// Without a launcher the job is this process alone: every collective is the identity and MPI is never
/// loaded, which is how every single-machine training run calls the same code as a distributed one.
final class CommunicatorTests: XCTestCase {
    func testAProcessNotStartedByALauncherIsAJobOfOne() throws {
        try XCTSkipIf(Communicator.launchedByMPI, "this test process was started by an MPI launcher")
        let world = try Communicator.world()
        XCTAssertEqual(world.rank, 0)
        XCTAssertEqual(world.size, 1)
        XCTAssertFalse(world.isDistributed)
        XCTAssertEqual(Communicator.launchedRank, 0)
    }

    func testEveryCollectiveOfAJobOfOneIsTheIdentity() {
        let one = Communicator.single
        var floats: [Float] = [1.5, -2, .pi]
        floats.withUnsafeMutableBufferPointer { one.sumInRankOrder($0) }
        XCTAssertEqual(floats, [1.5, -2, .pi])
        var doubles = [0.1, 0.2, -7]
        one.sumInRankOrder(&doubles)
        XCTAssertEqual(doubles, [0.1, 0.2, -7])
        var integers: [Int64] = [3, -4, 1 << 40]
        one.sum(&integers)
        XCTAssertEqual(integers, [3, -4, 1 << 40])
        XCTAssertEqual(one.sum(17), 17)
        XCTAssertEqual(one.maximum(-5), -5)
        XCTAssertEqual(one.broadcast("spec é ✓"), "spec é ✓")
        one.barrier()
    }
}
