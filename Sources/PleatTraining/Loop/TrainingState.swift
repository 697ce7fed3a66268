import PleatModel

/// Where a run stands after its last completed epoch; saved inside each checkpoint, so weights,
/// optimiser and progress always agree.
public struct TrainingState: Sendable, Codable, Equatable {
    public var modelId: String
    public var epochsDone = 0
    public var bestEpoch = 0
    public var bestValidNDCG = -1.0
    public var history: [EpochRecord] = []
    /// Training seconds summed over epochs (excluding time lost to an interruption).
    public var trainSeconds = 0.0
    public var stoppedEarly = false

    public init(modelId: String) { self.modelId = modelId }

    /// Training and validation seconds up to and including the best epoch.
    public var secondsToBestEpoch: Double { history.seconds(through: bestEpoch) }
}
