import Foundation
import PleatCore

extension ModelRecord {
    /// The model this one was warm-started from (`warm_start.parent` of its stored config); nil for a
    /// model trained from random weights. The registry's lineage: each warm start names its parent.
    public var parentId: String? {
        struct Stored: Decodable {
            struct WarmStart: Decodable { var parent: String? }
            var warmStart: WarmStart?
        }
        let parent = (try? JSONDecoder.snakeCase.decode(Stored.self, from: Data(config.utf8)))?.warmStart?.parent
        return parent?.isEmpty == false ? parent : nil
    }

    /// This model's ancestors, parent first, as far as `find` knows them (a chain broken by a model
    /// that is not registered here ends with its id).
    public func lineage(find: (String) throws -> ModelRecord?) rethrows -> [String] {
        var chain: [String] = [], next = parentId
        while let id = next, !chain.contains(id), chain.count < Self.maxLineage {
            chain.append(id)
            next = try find(id)?.parentId
        }
        return chain
    }

    /// Ancestors `lineage` follows at most (a nightly warm start for ten years).
    static let maxLineage = 4_000
}
