import Foundation
import XCTest
import PleatMetrics
import PleatCore
import PleatModel
import PleatScoring
import PleatStorage
import PleatTestSupport
import PleatTraining

/// A trained model is one self-contained, verified artifact: it scores without its training config,
/// keeps its fold keys when the catalogue changes, moves between databases, and refuses damage.
final class ModelArtifactTests: XCTestCase {
    /// Every user's list from the cache, by external id.
    private func lists(_ f: WalkFixture) throws -> [String: [String]] {
        let cache = try f.cache()
        var out: [String: [String]] = [:]
        for user in 0..<200 { out["u\(user)"] = try cache.lookup(user: "u\(user)")?.list.items }
        return out
    }

    /// The bug this fixes: a folded model's keys were recomputed from the database on every load, so one
    /// item of a new category changed the key embedding's size (a load error) or, when the count stayed
    /// the same, silently mapped keys wrongly. The keys are now frozen in the artifact.
    func testAFoldedModelScoresTheSameAfterItemsOfNewCategoriesArrive() throws {
        let f = try WalkFixture()
        defer { f.remove() }
        // Categories for the catalogue: i0…i99 in 5 categories.
        try f.ingest("user_id,item_id,timestamp\nu0,i0,1\n", name: "touch.csv", items: (0..<100).map { "i\($0),c\($0 % 5)" })
        var config = TrainingConfig(model: .hstu)
        (config.epochs, config.patience, config.batchSize, config.maxLength, config.seed, config.learningRate) = (2, 2, 32, 8, 7, 3e-3)
        (config.hstu.encoder.dimension, config.hstu.encoder.blocks, config.hstu.negatives) = (16, 1, 32)
        (config.fold.key, config.fold.groups, config.fold.groupLength) = (.category, 4, 4)
        var job = TrainingJob(config: config, artifacts: f.directory.appendingPathComponent("models"))
        (job.showProgress, job.log) = (false, { _ in })
        let folded = try job.run(db: f.db).record
        _ = try f.score(folded)
        let before = try lists(f)
        XCTAssertEqual(before.values.filter { !$0.isEmpty }.count, 200)

        // New items in new categories, interacted with by a new user only.
        try f.ingest("user_id,item_id,timestamp\nnewcomer,fresh1,5000\nnewcomer,fresh2,5001\n", name: "fresh.csv",
                     items: ["fresh1,brand-new", "fresh2,another-new"])
        XCTAssertEqual(try f.db.query("SELECT count(DISTINCT category) FROM item_metadata").int(0, 0), 7)
        _ = try f.score(folded)
        XCTAssertEqual(try lists(f), before, "the same lists for every old user")
    }

    func testOneChangedByteInAnyFileIsAClearError() throws {
        let f = try WalkFixture()
        defer { f.remove() }
        let directory = URL(fileURLWithPath: f.sasrec.artifactPath)
        XCTAssertNoThrow(try ModelArtifact.load(from: directory, expectedWeightsSHA256: f.sasrec.artifactSHA256))
        for name in [ModelArtifact.specFile, ModelArtifact.vocabularyFile, ModelArtifact.weightsFile] {
            let file = directory.appendingPathComponent(name)
            let original = try Data(contentsOf: file)
            var damaged = original
            damaged[damaged.count / 2] ^= 0x01
            try damaged.write(to: file)
            XCTAssertThrowsError(try ScoringModel.load(f.sasrec, db: f.db, batchSize: 1)) { error in
                XCTAssertTrue("\(error)".contains("\(name) does not match its checksum"), "\(error)")
            }
            try original.write(to: file)
        }
        XCTAssertNoThrow(try ScoringModel.load(f.sasrec, db: f.db, batchSize: 1))
    }

    /// Exported: readable by Python with only `struct` and `json`; imported into a second database (same
    /// events, ingested in another order, so internal ids differ): the same lists.
    func testAnExportedModelIsReadableWithoutPleatAndImportsIntoAnotherDatabase() throws {
        let f = try WalkFixture()
        defer { f.remove() }
        _ = try f.score(f.sasrec)
        let exported = f.directory.appendingPathComponent("exported")
        try ModelTransfer.export(f.sasrec, to: exported)
        let python = """
            import json, struct, sys
            d = sys.argv[1]
            with open(d + "/model.safetensors", "rb") as fh:
                (n,) = struct.unpack("<Q", fh.read(8))
                header = json.loads(fh.read(n))
            spec = json.load(open(d + "/spec.json"))
            table = header["item_emb.weight"]
            print(spec["format_version"], spec["spec"]["kind"], table["dtype"], table["shape"][0], table["shape"][1], spec["items"])
            """
        let outcome = try Subprocess.capture("/usr/bin/env", ["python3", "-c", python, exported.path])
        XCTAssertTrue(outcome.succeeded, outcome.output)
        XCTAssertEqual(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines), "1 sasrec F32 101 32 100")

        // A second database: the same events, newest file first, so items get other internal ids.
        let second = try TestDatabase.fresh(), db2 = try PostgresConnection(url: second)
        let reversed = f.directory.appendingPathComponent("reversed.csv")
        let lines = try String(contentsOf: f.directory.appendingPathComponent("walks.csv"), encoding: .utf8).split(separator: "\n")
        try ([String(lines[0])] + lines.dropFirst().reversed().map(String.init)).joined(separator: "\n").appending("\n")
            .write(to: reversed, atomically: true, encoding: .utf8)
        try WalkFixture.ingest(try String(contentsOf: reversed, encoding: .utf8), name: "again.csv", db: db2, directory: f.directory)
        XCTAssertNotEqual(try db2.query("SELECT id FROM items WHERE external_id = 'i0'").int(0, 0),
                          try f.db.query("SELECT id FROM items WHERE external_id = 'i0'").int(0, 0), "internal ids differ")
        let imported = try ModelTransfer.import(from: exported, artifacts: f.directory.appendingPathComponent("imported"), registry: ModelRegistry(db2))
        XCTAssertEqual(imported.id, f.sasrec.id)
        let cache2 = try RecommendationCache(path: f.directory.appendingPathComponent("cache2.sqlite").path,
                                             migrations: TestDatabase.migrationsDirectory.appendingPathComponent("sqlite"))
        var scorer = BatchScorer()
        (scorer.topK, scorer.showProgress) = (20, false)
        _ = try scorer.run(model: try ScoringModel.load(imported, db: db2, batchSize: 32), db: db2, cache: cache2)
        let original = try f.cache()
        for user in ["u0", "u42", "u199"] {
            XCTAssertEqual(try cache2.lookup(user: user)?.list.items, try original.lookup(user: user)?.list.items, user)
        }
    }

    /// A model registered before artifacts (config.json and vocabulary.json, no spec.json) is refused with
    /// the command that converts it; after `pleat models upgrade` it scores as before.
    func testModelsFromBeforeArtifactsAreConvertedByUpgrade() throws {
        let f = try WalkFixture()
        defer { f.remove() }
        let directory = URL(fileURLWithPath: f.sasrec.artifactPath)
        let expected = try ScoringModel.load(f.sasrec, db: f.db, batchSize: 1).topK([ModelHistory(items: [3, 4, 5], times: [1, 2, 3], behaviours: [0, 0, 0])], k: 10, seen: .exclude)[0].items
        // What an earlier Pleat left: no spec.json, no SHA256SUMS, a vocabulary without counts.
        for name in [ModelArtifact.specFile, ModelArtifact.checksumsFile] { try FileManager.default.removeItem(at: directory.appendingPathComponent(name)) }
        var vocabulary = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("vocabulary.json"))) as! [String: Any]
        vocabulary.removeValue(forKey: "counts")
        try JSONSerialization.data(withJSONObject: vocabulary).write(to: directory.appendingPathComponent("vocabulary.json"))
        XCTAssertThrowsError(try ScoringModel.load(f.sasrec, db: f.db, batchSize: 1)) { XCTAssertTrue("\($0)".contains("pleat models upgrade"), "\($0)") }
        // Its registered config lacks the keys added since (they take their defaults).
        var record = f.sasrec
        var config = try JSONSerialization.jsonObject(with: Data(record.config.utf8)) as! [String: Any]
        for key in ["refit", "shard", "length_group_batches", "position_weighted_steps", "test_curve", "adam_beta2"] {
            XCTAssertNotNil(config.removeValue(forKey: key), key)
        }
        record.config = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        XCTAssertTrue(try LegacyArtifactUpgrade.upgrade(record, db: f.db))
        XCTAssertFalse(try LegacyArtifactUpgrade.upgrade(f.sasrec, db: f.db), "already converted")
        let model = try ScoringModel.load(f.sasrec, db: f.db, batchSize: 1)
        XCTAssertEqual(model.topK([ModelHistory(items: [3, 4, 5], times: [1, 2, 3], behaviours: [0, 0, 0])], k: 10, seen: .exclude)[0].items, expected)
        XCTAssertEqual(model.popularItems(k: 3).items.count, 3, "counts from the database")
    }
}
