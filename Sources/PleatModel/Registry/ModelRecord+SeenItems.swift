import Foundation
import PleatCore
import PleatHistories
import PleatMetrics

extension ModelRecord {
    /// The seen-items rule the model was trained and validated under (`seen` in its stored config): what
    /// scoring, serving and evaluation apply to it unless told otherwise. A config stored before the
    /// rule existed had seen items excluded from served lists, so it reads as `exclude`.
    public var seen: SeenItems {
        get throws {
            struct Stored: Decodable { var seen: SeenItems? }
            do {
                return try JSONDecoder.snakeCase.decode(Stored.self, from: Data(config.utf8)).seen ?? .default
            } catch {
                throw ModelRecordError("model \(id): its stored config has no valid seen-items rule (\(error))")
            }
        }
    }

    /// The behaviours whose events the model was trained to predict (`target_events` in its stored
    /// config; nil: every event). With them, "already seen" means already done with one of them.
    public var targetEvents: EventNames? {
        get throws {
            struct Stored: Decodable { var targetEvents: EventNames? }
            do {
                return try JSONDecoder.snakeCase.decode(Stored.self, from: Data(config.utf8)).targetEvents
            } catch {
                throw ModelRecordError("model \(id): its stored config has no valid target_events (\(error))")
            }
        }
    }
}

/// A registry row whose stored fields cannot be read as what they should be.
public struct ModelRecordError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
