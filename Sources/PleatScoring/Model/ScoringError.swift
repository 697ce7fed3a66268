/// A scoring failure with its reason.
public struct ScoringError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
