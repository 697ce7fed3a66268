import Foundation
import PleatTensor

/// A training run's files under the artifacts directory (`<artifacts>/<model id>/`):
///   config.json, vocabulary.json     written when the run starts
///   checkpoint/                      weights + optimiser + state.json of the last completed epoch
///   best/                            weights of the best validation epoch
///   model.safetensors, metrics.json  the finished model (best weights) and its metrics
/// Checkpoints are written beside their final name and renamed into place, so a crash at any moment
/// leaves either the old or the new one whole.
public struct RunDirectory: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url }

    public var configFile: URL { url.appendingPathComponent("config.json") }
    public var vocabularyFile: URL { url.appendingPathComponent("vocabulary.json") }
    public var checkpoint: URL { url.appendingPathComponent("checkpoint") }
    public var best: URL { url.appendingPathComponent("best") }
    public var modelFile: URL { url.appendingPathComponent("model.safetensors") }
    public var metricsFile: URL { url.appendingPathComponent("metrics.json") }
    public var isFinished: Bool { FileManager.default.fileExists(atPath: metricsFile.path) }

    /// Saves into `target` atomically: write `target.tmp`, swap it in, drop the previous one.
    public func replace(_ target: URL, writer: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let tmp = target.appendingPathExtension("tmp"), old = target.appendingPathExtension("old")
        try? fm.removeItem(at: tmp)
        try writer(tmp)
        try? fm.removeItem(at: old)
        if fm.fileExists(atPath: target.path) { try fm.moveItem(at: target, to: old) }
        try fm.moveItem(at: tmp, to: target)
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

    /// The newest unfinished run of `kind` under `artifacts`, if any (what `--resume` continues).
    public static func latestUnfinished(in artifacts: URL, kind: ModelKind) -> RunDirectory? {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: artifacts.path) else { return nil }
        return names.filter { $0.hasPrefix(kind.rawValue + "-") }.sorted().reversed()
            .map { RunDirectory(artifacts.appendingPathComponent($0)) }
            .first { !$0.isFinished && fm.fileExists(atPath: $0.configFile.path) }
    }
}
