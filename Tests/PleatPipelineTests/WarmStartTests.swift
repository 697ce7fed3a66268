import Foundation
import XCTest
import PleatCore
import PleatEvaluation
import PleatModel
import PleatScoring
import PleatStorage
import PleatTensor
import PleatTestSupport
import PleatTraining

/// `pleat train --warm-start`: a model trained from a registered parent on the data since, with the
/// items new since the parent in its vocabulary, and in every other way a normal model.
final class WarmStartTests: XCTestCase {
    /// The walk fixture, then a day of new data: users u0…u79 walk six of twenty new items i100…i119 in
    /// order, and item metadata puts every item in one of five categories (i200 has metadata and no event yet).
    private func fixtureWithNewItems() throws -> WalkFixture {
        let fixture = try WalkFixture()
        var rng = RandomSource(seed: 8)
        var csv = "user_id,item_id,timestamp\n"
        for user in 0..<80 {
            let start = rng.below(20)
            for t in 0..<6 { csv += "u\(user),i\(100 + (start + t) % 20),\(5_000 + 10 * t)\n" }
        }
        try fixture.ingest(csv, name: "today.csv", items: (0..<120).map { "i\($0),c\($0 % 5)" } + ["i200,c3"])
        return fixture
    }

    private func warmConfig(_ fixture: WalkFixture, _ edit: (inout TrainingConfig) -> Void = { _ in }) throws -> TrainingConfig {
        var config = try TrainingConfig.stored(fixture.sasrec.config, source: "parent")
        (config.warmStart.parent, config.warmStart.epochs, config.warmStart.replayShare) = (fixture.sasrec.id, 4, 0.2)
        edit(&config)
        return config
    }

    private func train(_ config: TrainingConfig, _ fixture: WalkFixture) throws -> ModelRecord {
        var job = TrainingJob(config: config, artifacts: fixture.directory.appendingPathComponent("models"))
        (job.showProgress, job.log) = (false, { _ in })
        return try job.run(db: fixture.db).record
    }

    func testAWarmStartedModelRecommendsTodaysItemsAndIsANormalModel() throws {
        let fixture = try fixtureWithNewItems()
        defer { fixture.remove() }
        let record = try train(try warmConfig(fixture), fixture)
        let parent = fixture.sasrec
        XCTAssertEqual(record.parentId, parent.id)
        XCTAssertEqual(try record.lineage(find: ModelRegistry(fixture.db).find), [parent.id])
        XCTAssertEqual(record.items, parent.items + 20, "the twenty new items join; i200 has no event and cold items are off")
        let artifact = try ModelArtifact.load(from: URL(fileURLWithPath: record.artifactPath), expectedWeightsSHA256: record.artifactSHA256)
        let parentArtifact = try ModelArtifact.load(from: URL(fileURLWithPath: parent.artifactPath))
        XCTAssertEqual(Array(artifact.vocabulary.databaseIds.prefix(parent.items + 1)), parentArtifact.vocabulary.databaseIds,
                       "every old item keeps its model index")
        XCTAssertEqual(record.epochs, 4, "warm_start.epochs, not the parent's epochs")
        XCTAssertGreaterThan(record.bestEpoch, 0, "training on the day's events beats the parent's weights (epoch 0)")
        for directory in [parent.artifactPath, record.artifactPath] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/" + ModelArtifact.optimizerFile),
                          "the optimiser state a warm start continues, beside the weights")
        }

        // Scored (changed users only, as the nightly job does), today's items are in the lists of the users who walk them.
        _ = try fixture.score(parent)
        let report = try fixture.score(record, users: .changed)
        XCTAssertGreaterThan(report.users, 0)
        let cache = try fixture.cache()
        var withNewItem = 0
        for user in 0..<80 {
            let (modelId, list) = try XCTUnwrap(try cache.lookup(user: "u\(user)"), "u\(user)")
            XCTAssertEqual(modelId, record.id)
            if list.items.prefix(10).contains(where: { Int($0.dropFirst())! >= 100 }) { withNewItem += 1 }
        }
        XCTAssertGreaterThanOrEqual(withNewItem, 60, "of the 80 users who walk the new items, lists with one in their top 10")
        // Served live (the cached list gone), the warm-started model gives the list it cached.
        let cached = try XCTUnwrap(try cache.lookup(user: "u0")).list.items
        try SQLiteConnection(path: fixture.cachePath).execute("DELETE FROM recommendations WHERE user_id = 'u0'")
        let live = try Recommender(databaseURL: fixture.url, cachePath: fixture.cachePath).recommend(user: "u0", k: 20)
        XCTAssertEqual(live.source, .live)
        XCTAssertEqual(live.modelId, record.id)
        XCTAssertEqual(live.items.map(\.item), Array(cached.prefix(20)))

        // Evaluated beside its parent on the same data, exported and imported like any model.
        var evaluation = OfflineEvaluation(modelIds: [record.id])
        (evaluation.baselines, evaluation.log) = ([.pop], { _ in })
        let evaluated = try evaluation.run(db: fixture.db)
        XCTAssertEqual(evaluated.rankers.map(\.name), ["pop", record.id])
        // Forward in time: on each user's first event of the new day, the parent (which never saw the day's
        // items) misses every one; the warm start does not.
        var nextDay = OfflineEvaluation(modelIds: [parent.id, record.id])
        (nextDay.baselines, nextDay.after, nextDay.log) = ([], "5000", { _ in })
        let forward = try nextDay.run(db: fixture.db)
        XCTAssertEqual(forward.users, 80)
        XCTAssertEqual(forward.targets, 480, "every event of the day, each from the events before it")
        XCTAssertEqual(forward.split, "after 5000")
        XCTAssertEqual(forward.rankers[0].metrics.hitRate(at: 50), 0, "every target is an item the parent does not know")
        XCTAssertGreaterThan(try XCTUnwrap(forward.rankers[1].metrics.hitRate(at: 50)), 0.8, "which new item comes first is a guess, that one does is not")
        nextDay.afterTargets = .first
        let firsts = try nextDay.run(db: fixture.db)
        XCTAssertEqual(firsts.targets, 80, "each user's first event of the day")
        XCTAssertEqual(firsts.split, "after 5000 (first events)")
        let exported = fixture.directory.appendingPathComponent("exported")
        try ModelTransfer.export(record, to: exported)
        let elsewhere = try PostgresConnection(url: try TestDatabase.fresh())
        let imported = try ModelTransfer.import(from: exported, artifacts: fixture.directory.appendingPathComponent("elsewhere"),
                                                registry: ModelRegistry(elsewhere))
        XCTAssertEqual(imported.artifactSHA256, record.artifactSHA256)
        XCTAssertEqual(imported.parentId, parent.id, "the lineage travels with the model")

        // Deterministic for a given parent, data snapshot and seed.
        let again = try train(try warmConfig(fixture), fixture)
        XCTAssertNotEqual(again.id, record.id)
        XCTAssertEqual(again.artifactSHA256, record.artifactSHA256)
    }

    /// A warm start whose training only loses ground (here at a learning rate far too high) serves its
    /// epoch 0, the parent's weights, rather than worse ones: the old items' rows and every other weight
    /// are the parent's bit for bit. One whose loss overflows stops with an error that names the fix.
    func testAWarmStartThatOnlyLosesGroundKeepsTheParentsWeights() throws {
        let fixture = try fixtureWithNewItems()
        defer { fixture.remove() }
        XCTAssertThrowsError(try train(try warmConfig(fixture) { $0.warmStart.learningRate = 1e4 }, fixture)) { error in
            XCTAssertTrue("\(error)".contains("training diverged in epoch 1") && "\(error)".contains("lower warm_start.learning_rate"), "\(error)")
        }
        // On the parent's own data (no new day), where it ranks the walks well and there is nothing new to learn.
        let unchanged = try WalkFixture()
        defer { unchanged.remove() }
        let record = try train(try warmConfig(unchanged) { ($0.warmStart.learningRate, $0.warmStart.replayShare, $0.warmStart.epochs) = (0.3, 0.5, 2) }, unchanged)
        XCTAssertEqual(record.bestEpoch, 0)
        XCTAssertEqual(record.epochs, 2)
        let model = try ModelArtifact.load(from: URL(fileURLWithPath: record.artifactPath)).makeModel(batchSize: 1).store
        let parent = try ModelArtifact.load(from: URL(fileURLWithPath: unchanged.sasrec.artifactPath)).makeModel(batchSize: 1).store
        for p in parent.parameters {
            XCTAssertTrue(try XCTUnwrap(model[p.name]).value.array == p.value.array, p.name)
        }
    }

    /// `warm_start.shrink`: epoch 0 is still the parent's own weights (an epoch must beat them), and the
    /// epochs start from shrunk ones: at a learning rate too small to change anything, the parent is
    /// chosen under any shrink, and epoch 1's training loss differs from an unshrunk run's.
    func testShrinkTrainsFromShrunkWeightsAndEpochZeroStaysTheParent() throws {
        let fixture = try fixtureWithNewItems()
        defer { fixture.remove() }
        let parent = try ModelArtifact.load(from: URL(fileURLWithPath: fixture.sasrec.artifactPath)).makeModel(batchSize: 1).store
        var firstEpochs: [Double] = []
        for shrink: Float in [1, 0.25] {
            let record = try train(try warmConfig(fixture) { ($0.warmStart.shrink, $0.warmStart.learningRate, $0.warmStart.epochs) = (shrink, 1e-12, 1) }, fixture)
            XCTAssertEqual(record.bestEpoch, 0, "shrink \(shrink)")
            let model = try ModelArtifact.load(from: URL(fileURLWithPath: record.artifactPath)).makeModel(batchSize: 1).store
            for p in parent.parameters {
                // Item tables have new rows after the parent's: the parent's rows come first.
                let values = try XCTUnwrap(model[p.name]).value.array
                XCTAssertTrue(Array(values.prefix(p.value.count)) == p.value.array, "shrink \(shrink): \(p.name) is the parent's")
            }
            firstEpochs.append(try XCTUnwrap(record.history.first).loss)
        }
        XCTAssertGreaterThan(abs(firstEpochs[0] - firstEpochs[1]), 0.01, "epoch 1 trained from other weights (its loss): \(firstEpochs)")
    }

    /// New rows by default: a category's mean for the dot-product models, a cold start's row for HSTU
    /// (cosine ranking puts a category's mean ahead of the category's own items).
    func testNewRowsStartByTheModelsRankingRule() {
        let rows = WarmStartSettings().newItems
        XCTAssertEqual(ModelKind.allCases.map { rows.resolved(for: $0) }, ModelKind.allCases.map { $0 == .hstu ? .random : .category })
        XCTAssertEqual(WarmStartSettings.NewItemRows.category.resolved(for: .hstu), .category, "an explicit choice stands")
    }

    /// With `cold_items`, an item that has metadata and no event yet is in the vocabulary, with the mean
    /// of its category's rows (here i200 of c3: the items with events i3, i8, …, i118).
    func testAColdItemIsScoredFromItsCategory() throws {
        let fixture = try fixtureWithNewItems()
        defer { fixture.remove() }
        let record = try train(try warmConfig(fixture) { $0.warmStart.coldItems = true }, fixture)
        let artifact = try ModelArtifact.load(from: URL(fileURLWithPath: record.artifactPath), expectedWeightsSHA256: record.artifactSHA256)
        let external = artifact.vocabulary.externalIds
        XCTAssertEqual(external.last, "i200")
        XCTAssertEqual(record.items, fixture.sasrec.items + 21)
        let model = try artifact.makeModel(batchSize: 1)
        let table = try XCTUnwrap(model.store["item_emb.weight"]).value, d = table.columns
        let sources = external.indices.filter { external[$0].hasPrefix("i") && external[$0] != "i200" && Int(external[$0].dropFirst())! % 5 == 3 }
        XCTAssertEqual(sources.count, 24)
        let cold = external.count - 1
        for j in 0..<d {
            let mean = sources.reduce(0.0) { $0 + Double(table[$1 * d + j]) } / Double(sources.count)
            XCTAssertEqual(Double(table[cold * d + j]), mean, accuracy: 1e-6)
        }
        XCTAssertTrue(try ScoringModel.load(record, db: fixture.db, batchSize: 8).databaseIds.contains(artifact.vocabulary.databaseIds[cold]))
    }

    /// `pleat train --warm-start serving`, killed after its first epoch's checkpoint and resumed, gives
    /// the uninterrupted run's weights.
    func testAKilledWarmStartResumesToTheSameModel() throws {
        guard FileManager.default.isExecutableFile(atPath: TestDatabase.pleatExecutable.path) else { throw XCTSkip("pleat is not built") }
        let fixture = try fixtureWithNewItems()
        defer { fixture.remove() }
        _ = try fixture.score(fixture.sasrec)  // the serving model
        let arguments = ["--warm-start", "serving", "--cache", fixture.cachePath, "--set", "warm_start.epochs=3"]
        func train(_ directory: String, _ extra: [String] = [], crashAt point: String? = nil) throws -> (status: Int32, stdout: String) {
            let process = Process(), out = Pipe()
            process.executableURL = TestDatabase.pleatExecutable
            process.arguments = ["train", "--artifacts", fixture.directory.appendingPathComponent(directory).path, "--json"] + arguments + extra
            var environment = ProcessInfo.processInfo.environment.merging(["PLEAT_DATABASE_URL": fixture.url]) { $1 }
            environment["PLEAT_CRASH_POINT"] = point
            (process.environment, process.standardOutput, process.standardError) = (environment, out, FileHandle.nullDevice)
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        func sha(_ output: String) throws -> String {
            let line = try XCTUnwrap(output.split(separator: "\n").last)
            return try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["artifact_sha256"] as? String)
        }
        let whole = try train("whole")
        XCTAssertEqual(whole.status, 0)
        XCTAssertEqual(try train("killed", crashAt: "checkpoint:1").status, -SIGKILL)
        let resumed = try train("killed", ["--resume"])
        XCTAssertEqual(resumed.status, 0)
        XCTAssertEqual(try sha(resumed.stdout), try sha(whole.stdout))
        let record = try XCTUnwrap(try ModelRegistry(fixture.db).find(try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(whole.stdout.split(separator: "\n").last).utf8)) as? [String: Any])?["model_id"] as? String)))
        XCTAssertEqual(record.parentId, fixture.sasrec.id, "'serving' is the cache's active model, recorded by id")
    }
}
