import PleatMetrics

/// One epoch's outcome, kept in the run's state and in the model registry (training curves).
public struct EpochRecord: Sendable, Codable, Equatable {
    public var epoch: Int
    public var loss: Double
    public var valid: MetricSummary
    public var seconds: Double
    public var sequencesPerSecond: Double

    public init(epoch: Int, loss: Double, valid: MetricSummary, seconds: Double, sequencesPerSecond: Double) {
        (self.epoch, self.loss, self.valid, self.seconds, self.sequencesPerSecond) = (epoch, loss, valid, seconds, sequencesPerSecond)
    }
}

extension Array where Element == EpochRecord {
    /// Training and validation seconds up to and including `epoch` (the best one, usually).
    public func seconds(through epoch: Int) -> Double { prefix { $0.epoch <= epoch }.reduce(0) { $0 + $1.seconds } }
}
