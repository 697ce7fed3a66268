import Foundation
import PleatCore
import PleatScoring

/// The body of `POST /v1/recommendations`: a user, the events of their session that no ingest has
/// stored yet, and optionally k and the behaviour asked for (as `?k=` and `?event=` of the GET route).
struct RecommendationRequest: Decodable, Sendable {
    var user: String
    var events: [RecentEvent]?
    var k: Int?
    var event: String?

    /// Why a body is not a request, in one line that names the field.
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    static func decode(_ body: Data) throws -> RecommendationRequest {
        do {
            return try JSONDecoder().decode(Self.self, from: body)
        } catch let error as DecodingError {
            throw Problem(description: Self.explain(error))
        } catch {
            throw Problem(description: "the body is not JSON")
        }
    }

    /// DecodingError's description is a paragraph of Swift types; a client needs the field and the fault.
    static func explain(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let all = keys + (last.map { [$0] } ?? [])
            return all.reduce(into: "") { text, key in
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath, key)) is missing"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return "\(field.isEmpty ? "the body" : field) must be \(Self.kind(type))"
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            return field.isEmpty ? "the body is not valid JSON" : "\(field) is not valid: \(context.debugDescription)"
        @unknown default: return "the body is not a request"
        }
    }

    private static func kind(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Float.Type, is Double.Type: "a number"
        case is [RecentEvent].Type: "an array"
        default: "an object"
        }
    }
}
