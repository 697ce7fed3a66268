import PleatMetrics

/// One epoch's outcome, kept in the run's state and in the model registry (training curves).
public struct EpochRecord: Sendable, Codable, Equatable {
    public var epoch: Int
    public var loss: Double
    /// Empty for the epochs of a refit pass, which train on the validation events.
    public var valid: MetricSummary
    /// Test metrics of this epoch's weights, when the run records the test curve (`test_curve`): for
    /// plots and time-to-quality only, never for choosing an epoch or a setting.
    public var test: MetricSummary?
    public var seconds: Double
    public var sequencesPerSecond: Double
    /// True for the epochs of the refit pass (`refit`), which follow the epochs validation chose from;
    /// absent otherwise.
    public var refit: Bool?

    public init(epoch: Int, loss: Double, valid: MetricSummary, test: MetricSummary? = nil, seconds: Double, sequencesPerSecond: Double,
                refit: Bool? = nil) {
        (self.epoch, self.loss, self.valid, self.test, self.seconds, self.sequencesPerSecond) = (epoch, loss, valid, test, seconds, sequencesPerSecond)
        self.refit = refit
    }
}

extension Array where Element == EpochRecord {
    /// The epochs validation chose from (the refit pass's left out).
    public var selection: [EpochRecord] { filter { $0.refit != true } }

    /// The epochs of the refit pass, in order.
    public var refitPass: [EpochRecord] { filter { $0.refit == true } }

    /// Training and validation seconds of the epochs validation chose from, up to and including `epoch`
    /// (the best one, usually).
    public func seconds(through epoch: Int) -> Double { selection.prefix { $0.epoch <= epoch }.reduce(0) { $0 + $1.seconds } }
}
