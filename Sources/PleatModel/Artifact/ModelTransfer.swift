import Foundation
import PleatCore
import PleatStorage

/// Moving a registered model between databases: an exported directory holds the artifact and the
/// registry record (`record.json`); importing verifies the artifact, copies it under the importing
/// side's artifacts directory and registers it there. Item ids are matched by external id when the
/// model is loaded, so the two databases need not agree on internal ids.
public enum ModelTransfer {
    public static let recordFile = "record.json"

    /// Copies `record`'s artifact (verified against the registry's SHA-256) and its record into `directory`.
    public static func export(_ record: ModelRecord, to directory: URL) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: directory.path), !(try fm.contentsOfDirectory(atPath: directory.path)).isEmpty {
            throw ArtifactError("\(directory.path) is not empty: export into a new directory")
        }
        let artifact = try ModelArtifact.load(from: URL(fileURLWithPath: record.artifactPath), expectedWeightsSHA256: record.artifactSHA256)
        try artifact.copy(to: directory)
        try DurableFile.write(try JSONEncoder.snakeCase(pretty: true).encode(record), to: directory.appendingPathComponent(recordFile))
    }

    /// Verifies the exported artifact in `directory`, copies it to `artifacts/<model id>/` and registers it.
    /// Importing a model the registry already has (same id, same weights) does nothing.
    @discardableResult
    public static func `import`(from directory: URL, artifacts: URL, registry: ModelRegistry) throws -> ModelRecord {
        var record: ModelRecord
        do { record = try JSONDecoder.snakeCase.decode(ModelRecord.self, from: Data(contentsOf: directory.appendingPathComponent(recordFile))) } catch {
            throw ArtifactError("\(directory.appendingPathComponent(recordFile).path): \(error) (is this a directory `pleat models export` wrote?)")
        }
        let artifact = try ModelArtifact.load(from: directory, expectedWeightsSHA256: record.artifactSHA256)
        guard artifact.modelId == record.id else { throw ArtifactError("\(directory.path): the artifact is \(artifact.modelId), the record \(record.id)") }
        if let existing = try registry.find(record.id) {
            guard existing.artifactSHA256 == record.artifactSHA256 else {
                throw ArtifactError("the registry already has a different model \(record.id) (other weights)")
            }
            return existing
        }
        let target = artifacts.appendingPathComponent(record.id)
        if target.standardizedFileURL != directory.standardizedFileURL { try artifact.copy(to: target) }
        record.artifactPath = target.standardizedFileURL.path
        record.createdAt = nil
        try registry.register(record)
        return try registry.find(record.id) ?? record
    }
}
