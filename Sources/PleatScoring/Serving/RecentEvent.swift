import Foundation
import PleatStorage

/// An event a request brings that no ingest has stored yet ("the user just viewed i9"): scored with the
/// stored history as if it had been ingested (`Recommender.recommend(user:k:event:recent:)`).
public struct RecentEvent: Sendable, Codable, Equatable {
    /// The item's external id.
    public var item: String
    /// Unix seconds; nil: the moment the request is answered.
    public var time: Int64?
    /// The event type's name; nil: the database's only event type, or `interaction`, which ingest
    /// gives rows without a type.
    public var event: String?
    /// The event's value (a rating, a watch time); nil: none.
    public var value: Float?

    public init(item: String, time: Int64? = nil, event: String? = nil, value: Float? = nil) {
        (self.item, self.time, self.event, self.value) = (item, time, event, value)
    }

    /// Events one request may carry: a session's worth. More belong in a batch ingest, and the bound
    /// keeps a request's scoring cost near a stored history's.
    public static let maximumPerRequest = 256
    /// The event type ingest gives rows without one (`EventParser`'s default).
    public static let defaultEventType = "interaction"
}

/// A request's recent events cannot be scored as sent: which one and why (HTTP 400, exit 1).
public struct RecentEventError: Error, CustomStringConvertible, Sendable {
    /// The event's position in the request (nil: the request as a whole).
    public let index: Int?
    public let problem: String

    public var description: String { index.map { "events[\($0)]: \(problem)" } ?? problem }

    /// The problem `EventRules` finds with an id, in words.
    static func describe(_ problem: EventRules.IdProblem, _ role: String) -> String {
        switch problem {
        case .empty: "\(role) is empty"
        case .tooLong(let bytes): "\(role) of \(bytes) bytes is longer than \(EventRules.maxIdBytes)"
        case .controlCharacter(let byte): "\(role) holds the control character " + String(format: "U+%04X", Int(byte))
        }
    }
}
