import Foundation
import PleatCore
import PleatHistories
import PleatModel
import PleatStorage

/// `pleat models upgrade`: run directories written before models were self-contained artifacts (a
/// `config.json` and a `vocabulary.json`, no `spec.json`) get the artifact files, so they load again.
/// What such a run never stored comes from the database as it is now: the fold keys (category, cluster),
/// and the items' training counts (events up to the model's data snapshot).
public enum LegacyArtifactUpgrade {
    /// Converts `record`'s run directory; false when it is already an artifact.
    @discardableResult
    public static func upgrade(_ record: ModelRecord, db: PostgresConnection) throws -> Bool {
        let run = RunDirectory(URL(fileURLWithPath: record.artifactPath))
        guard !FileManager.default.fileExists(atPath: run.specFile.path) else { return false }
        let weightsSHA256 = try SHA256.hex(ofFile: run.modelFile)
        guard weightsSHA256 == record.artifactSHA256 else {
            throw ArtifactError("\(run.modelFile.path): SHA-256 \(weightsSHA256), the registry has \(record.artifactSHA256): not converting damaged weights")
        }
        let config = try TrainingConfig.stored(record.config, source: "model \(record.id)")
        var vocabulary = try JSONDecoder.snakeCase.decode(ArtifactVocabulary.self, from: Data(contentsOf: run.vocabularyFile))
        let index = vocabulary.trainingIndex
        var counts = [Int](repeating: 0, count: vocabulary.databaseIds.count)
        for (item, events) in try ItemTable(db).eventCounts(throughBatch: vocabulary.snapshotBatch) {
            if let i = index.modelIndex(of: item) { counts[Int(i)] = events }
        }
        vocabulary.counts = counts
        let foldKeys = try FoldKeys.load(config.fold, vocabulary: index, db: db, seed: config.seed)
        try ModelArtifact.write(modelId: record.id, spec: config.spec, vocabulary: vocabulary, foldKeys: foldKeys, to: run.url)
        return true
    }
}
