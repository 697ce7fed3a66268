/// Final ranking metrics: HR@K and NDCG@K at each cutoff, and MRR. One typed value everywhere (registry,
/// reports, JSON lines) with one JSON form, a flat object: `{"hr@10": …, "ndcg@10": …, "mrr": …}`.
public struct MetricSummary: Sendable, Equatable, Codable {
    public var hitRate: [Int: Double]
    public var ndcg: [Int: Double]
    public var mrr: Double

    public init(hitRate: [Int: Double] = [:], ndcg: [Int: Double] = [:], mrr: Double = 0) {
        (self.hitRate, self.ndcg, self.mrr) = (hitRate, ndcg, mrr)
    }

    public func hitRate(at k: Int) -> Double? { hitRate[k] }
    public func ndcg(at k: Int) -> Double? { ndcg[k] }

    /// The cutoffs present, ascending.
    public var cutoffs: [Int] { Set(hitRate.keys).union(ndcg.keys).sorted() }

    /// A metric by its JSON name (`hr@10`, `ndcg@5`, `mrr`), for reports that list them by name.
    public subscript(name: String) -> Double? {
        if name == "mrr" { return mrr }
        let parts = name.split(separator: "@")
        guard parts.count == 2, let k = Int(parts[1]) else { return nil }
        switch parts[0] {
        case "hr": return hitRate[k]
        case "ndcg": return ndcg[k]
        default: return nil
        }
    }

    /// The JSON names, in a stable order: hr@K and ndcg@K by cutoff, then mrr.
    public var names: [String] { cutoffs.flatMap { ["hr@\($0)", "ndcg@\($0)"] } + ["mrr"] }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        self.init()
        for key in container.allKeys {
            let value = try container.decode(Double.self, forKey: key)
            if key.stringValue == "mrr" { mrr = value; continue }
            let parts = key.stringValue.split(separator: "@")
            guard parts.count == 2, let k = Int(parts[1]), ["hr", "ndcg"].contains(parts[0]) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not a metric name: \(key.stringValue)")
            }
            if parts[0] == "hr" { hitRate[k] = value } else { ndcg[k] = value }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for name in names { if let value = self[name] { try container.encode(value, forKey: Key(stringValue: name)) } }
    }
}
