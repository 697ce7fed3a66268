import PleatMetrics

/// One epoch's outcome, kept in the run's state and in the model registry (training curves).
public struct EpochRecord: Sendable, Codable, Equatable {
    public var epoch: Int
    public var loss: Double
    public var valid: MetricSummary
    /// Test metrics of this epoch's weights, when the run records the test curve (`test_curve`): for
    /// plots and time-to-quality only, never for choosing an epoch or a setting.
    public var test: MetricSummary?
    public var seconds: Double
    public var sequencesPerSecond: Double

    public init(epoch: Int, loss: Double, valid: MetricSummary, test: MetricSummary? = nil, seconds: Double, sequencesPerSecond: Double) {
        (self.epoch, self.loss, self.valid, self.test, self.seconds, self.sequencesPerSecond) = (epoch, loss, valid, test, seconds, sequencesPerSecond)
    }
}

extension Array where Element == EpochRecord {
    /// Training and validation seconds up to and including `epoch` (the best one, usually).
    public func seconds(through epoch: Int) -> Double { prefix { $0.epoch <= epoch }.reduce(0) { $0 + $1.seconds } }
}
