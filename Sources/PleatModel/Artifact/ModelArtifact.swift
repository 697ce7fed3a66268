import Foundation
import PleatCore
import PleatTensor

/// A trained model as one self-contained directory, readable without a database:
///
///   spec.json          format version, model id, the `ModelSpec`, item count, frozen fold keys
///   vocabulary.json    model index → database id, external id and training count; data snapshot
///   model.safetensors  the weights
///   SHA256SUMS         the SHA-256 of the three, in `sha256sum` format (`sha256sum -c SHA256SUMS` checks them)
///
/// Every file is written durably (`DurableFile`), SHA256SUMS last, so a directory with a SHA256SUMS that
/// verifies is complete. Every load verifies all three checksums: one changed byte is a clear error.
public struct ModelArtifact: Sendable {
    /// The layout this code writes; it reads this version and earlier ones.
    public static let formatVersion = 1
    public static let specFile = "spec.json", vocabularyFile = "vocabulary.json", weightsFile = "model.safetensors"
    public static let checksumsFile = "SHA256SUMS"
    /// The optimiser state of the weights' epoch, beside them when training kept it: a warm start from
    /// this model continues it (`warm_start.optimizer`). Not part of the sealed artifact (nor exported).
    public static let optimizerFile = "optimizer.safetensors"

    /// `spec.json`.
    public struct Header: Sendable, Codable, Equatable {
        public var formatVersion: Int
        public var modelId: String
        public var spec: ModelSpec
        public var items: Int
        public var foldKeys: FoldKeys?

        public init(formatVersion: Int, modelId: String, spec: ModelSpec, items: Int, foldKeys: FoldKeys?) {
            (self.formatVersion, self.modelId, self.spec, self.items, self.foldKeys) = (formatVersion, modelId, spec, items, foldKeys)
        }
    }

    public let directory: URL
    public let header: Header
    public let vocabulary: ArtifactVocabulary
    /// The weights' SHA-256 (what the registry records).
    public let weightsSHA256: String

    public var modelId: String { header.modelId }
    public var spec: ModelSpec { header.spec }
    public var foldKeys: FoldKeys? { header.foldKeys }

    /// Writes spec, vocabulary and checksums around weights already at `directory/model.safetensors`
    /// (an artifact written at once: the legacy upgrade). Returns the weights' SHA-256.
    @discardableResult
    public static func write(modelId: String, spec: ModelSpec, vocabulary: ArtifactVocabulary, foldKeys: FoldKeys?,
                             to directory: URL) throws -> String {
        try writeHeader(modelId: modelId, spec: spec, vocabulary: vocabulary, foldKeys: foldKeys, to: directory)
        return try seal(directory)
    }

    /// Writes `spec.json` and `vocabulary.json`: a training run writes them when it starts (a resumed run
    /// reads them back), before any weights exist.
    public static func writeHeader(modelId: String, spec: ModelSpec, vocabulary: ArtifactVocabulary, foldKeys: FoldKeys?,
                                   to directory: URL) throws {
        let header = Header(formatVersion: formatVersion, modelId: modelId, spec: spec, items: vocabulary.count, foldKeys: foldKeys)
        let encoder = JSONEncoder.snakeCase(pretty: true)
        try DurableFile.write(try encoder.encode(header), to: directory.appendingPathComponent(specFile))
        try DurableFile.write(try encoder.encode(vocabulary), to: directory.appendingPathComponent(vocabularyFile))
    }

    /// Seals a directory that holds spec, vocabulary and weights: their SHA-256 sums, written last, make it
    /// an artifact (`load` verifies them). Each file is hashed once; returns the weights' sum, which the
    /// registry records.
    @discardableResult
    public static func seal(_ directory: URL) throws -> String {
        let weights = directory.appendingPathComponent(weightsFile)
        guard FileManager.default.fileExists(atPath: weights.path) else { throw ArtifactError("\(weights.path) is missing") }
        var sums = "", weightsSHA256 = ""
        for name in [specFile, vocabularyFile, weightsFile] {
            let sum = try SHA256.hex(ofFile: directory.appendingPathComponent(name))
            if name == weightsFile { weightsSHA256 = sum }
            sums += "\(sum)  \(name)\n"
        }
        try DurableFile.write(Data(sums.utf8), to: directory.appendingPathComponent(checksumsFile))
        CrashPoint.reach("artifact.checksums")
        return weightsSHA256
    }

    /// Reads and verifies an artifact; `expectedWeightsSHA256` (the registry's) must match too, when given.
    public static func load(from directory: URL, expectedWeightsSHA256: String? = nil) throws -> ModelArtifact {
        let fm = FileManager.default
        let sumsFile = directory.appendingPathComponent(checksumsFile)
        guard fm.fileExists(atPath: sumsFile.path) else {
            if fm.fileExists(atPath: directory.appendingPathComponent("config.json").path), !fm.fileExists(atPath: directory.appendingPathComponent(specFile).path) {
                throw ArtifactError("\(directory.path) was written by an earlier Pleat (no \(specFile)): run `pleat models upgrade` to convert it")
            }
            throw ArtifactError("\(directory.path) is not a complete model artifact (no \(checksumsFile))")
        }
        let listed = try checksums(in: sumsFile)
        guard let weightsSHA256 = listed[weightsFile] else { throw ArtifactError("\(sumsFile.path) does not list \(weightsFile)") }
        for name in [specFile, vocabularyFile, weightsFile] {
            guard let expected = listed[name] else { throw ArtifactError("\(sumsFile.path) does not list \(name)") }
            let file = directory.appendingPathComponent(name)
            guard fm.fileExists(atPath: file.path) else { throw ArtifactError("\(file.path) is missing") }
            let actual = try SHA256.hex(ofFile: file)
            guard actual == expected else {
                throw ArtifactError("\(file.path) does not match its checksum (SHA-256 \(actual), expected \(expected)): the file was changed or damaged")
            }
        }
        if let expectedWeightsSHA256, weightsSHA256 != expectedWeightsSHA256 {
            throw ArtifactError("\(directory.path): the weights' SHA-256 \(weightsSHA256) is not the registry's \(expectedWeightsSHA256)")
        }
        let decoder = JSONDecoder.snakeCase
        let header: Header
        do { header = try decoder.decode(Header.self, from: Data(contentsOf: directory.appendingPathComponent(specFile))) } catch {
            throw ArtifactError("\(directory.appendingPathComponent(specFile).path): \(error)")
        }
        guard header.formatVersion <= formatVersion else {
            throw ArtifactError("\(directory.path) has format version \(header.formatVersion), newer than this Pleat reads (\(formatVersion)): upgrade Pleat")
        }
        let vocabulary = try decoder.decode(ArtifactVocabulary.self, from: Data(contentsOf: directory.appendingPathComponent(vocabularyFile)))
        guard vocabulary.count == header.items, vocabulary.externalIds.count == vocabulary.databaseIds.count else {
            throw ArtifactError("\(directory.path): the vocabulary does not have the \(header.items) items of the spec")
        }
        return ModelArtifact(directory: directory, header: header, vocabulary: vocabulary, weightsSHA256: weightsSHA256)
    }

    /// The network with the trained weights, taking `batchSize` histories per call.
    public func makeModel(batchSize: Int) throws -> any NextItemModel {
        let model = spec.makeModel(batchSize: batchSize, seed: 0, items: header.items, foldKeys: foldKeys)
        try Checkpoint.load(model.store, optimizer: nil, from: directory)
        return model
    }

    /// Copies the artifact's files (nothing else of a run directory) into `target`, durably.
    public func copy(to target: URL) throws {
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        for name in [Self.weightsFile, Self.specFile, Self.vocabularyFile, Self.checksumsFile] {
            try DurableFile.write(try Data(contentsOf: directory.appendingPathComponent(name)), to: target.appendingPathComponent(name))
        }
        _ = try Self.load(from: target, expectedWeightsSHA256: weightsSHA256)
    }

    private static func checksums(in file: URL) throws -> [String: String] {
        var listed: [String: String] = [:]
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 64 else { throw ArtifactError("\(file.path): malformed line '\(line)'") }
            listed[parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " *"))] = String(parts[0])
        }
        return listed
    }
}

public struct ArtifactError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
