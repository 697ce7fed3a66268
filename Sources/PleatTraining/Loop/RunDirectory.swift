import Foundation
import PleatCore
import PleatModel
import PleatTensor

/// A training run's files under the artifacts directory (`<artifacts>/<model id>/`): the model artifact
/// (`ModelArtifact`: spec.json, vocabulary.json, model.safetensors, SHA256SUMS) and what only training
/// needs:
///   config.json      the full training config, written when the run starts
///   checkpoint/      weights + optimiser + state.json of the last completed epoch
///   best/            weights of the best validation epoch
///   metrics.json     the registry record, written before the artifact is sealed
/// Every file is written durably (`DurableFile`); checkpoints are written beside their final name and
/// renamed into place, so a crash at any moment leaves either the old or the new one whole. A run is
/// finished when the registry has it: that insert is the run's commit point.
public struct RunDirectory: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url }

    public var modelId: String { url.lastPathComponent }
    public var configFile: URL { url.appendingPathComponent("config.json") }
    public var specFile: URL { url.appendingPathComponent(ModelArtifact.specFile) }
    public var vocabularyFile: URL { url.appendingPathComponent(ModelArtifact.vocabularyFile) }
    public var checkpoint: URL { url.appendingPathComponent("checkpoint") }
    public var best: URL { url.appendingPathComponent("best") }
    public var modelFile: URL { url.appendingPathComponent(ModelArtifact.weightsFile) }
    public var metricsFile: URL { url.appendingPathComponent("metrics.json") }

    /// Saves into `target` atomically and durably: write `target.tmp`, flush it, swap it in, drop the
    /// previous one.
    public func replace(_ target: URL, writer: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let tmp = target.appendingPathExtension("tmp"), old = target.appendingPathExtension("old")
        try? fm.removeItem(at: tmp)
        try writer(tmp)
        try DurableFile.syncTree(tmp)
        try? fm.removeItem(at: old)
        if fm.fileExists(atPath: target.path) { try DurableFile.rename(target, to: old) }
        try DurableFile.rename(tmp, to: target)
        try? fm.removeItem(at: old)
    }

    /// The checkpoint to resume from: the current one, or the previous one if a crash hit mid-swap.
    public var resumableCheckpoint: URL? {
        let fm = FileManager.default
        for candidate in [checkpoint, checkpoint.appendingPathExtension("old")]
        where fm.fileExists(atPath: candidate.appendingPathComponent("state.json").path) { return candidate }
        return nil
    }

    public func readState(in checkpoint: URL) throws -> TrainingState {
        try JSONDecoder().decode(TrainingState.self, from: Data(contentsOf: checkpoint.appendingPathComponent("state.json")))
    }

    /// Runs of `kind` under `artifacts` that have started (their config is written), newest first.
    public static func started(in artifacts: URL, kind: ModelKind) -> [RunDirectory] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: artifacts.path) else { return [] }
        return names.filter { $0.hasPrefix(kind.rawValue + "-") }.sorted().reversed()
            .map { RunDirectory(artifacts.appendingPathComponent($0)) }
            .filter { fm.fileExists(atPath: $0.configFile.path) }
    }
}
