import PleatMetrics
import PleatStorage

/// The cache's sets under the seen-items rule they were scored by (the cache stores it as a flag).
extension RecommendationCache.ListSet {
    public var seen: SeenItems { includeSeen ? .include : .exclude }
}

extension RecommendationCache {
    public func beginSet(modelId: String, topK: Int, seen: SeenItems) throws {
        try beginSet(modelId: modelId, topK: topK, includeSeen: seen == .include)
    }
}
