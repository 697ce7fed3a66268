/// An error that stops an ingest before or while it runs (as opposed to a rejected row).
public struct IngestError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
