/// One shard of the users: `index` of `count`, written `I/N` (0-based), as in `--shard 2/8`.
///
/// The shard function is the one rule that every stage uses to split users: storage reads
/// (`HistoryLoader`), batch scoring (one cache per shard) and serving (a server answers only its own
/// users). It is a function of the **external** user id, the only id a load balancer in front of
/// `pleat serve` sees:
///
///     shard(user, N) = FNV-1a-32(UTF-8 bytes of user) mod N
///
/// FNV-1a-32: h = 2166136261; for each byte b: h = (h XOR b) × 16777619 mod 2^32. Test vectors are in
/// `docs/sharding.md`; PostgreSQL computes the same hash (`pleat_shard_hash`, migration 0004) into
/// `users.shard_hash`, so a shard's users are `shard_hash % N = I` in SQL, and partitions `interactions` by
/// `shard_hash % 16` (migration 0006).
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// The most shards a deployment may name (a bound so that `I/N` from a command line stays sane).
    public static let maximumCount = 65_536

    public init(index: Int, count: Int) throws {
        guard (1...Self.maximumCount).contains(count), (0..<count).contains(index) else {
            throw ShardError(description: "a shard is I/N with 1 <= N <= \(Self.maximumCount) and 0 <= I < N, got \(index)/\(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`, e.g. `0/4`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw ShardError(description: "a shard is written I/N (for example 0/4), got '\(text.prefix(40))'")
        }
        try self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    /// The whole data set as one shard.
    public static let all = Shard(unchecked: 0, count: 1)

    private init(unchecked index: Int, count: Int) { (self.index, self.count) = (index, count) }

    /// FNV-1a (32-bit) of the id's UTF-8 bytes.
    public static func hash(_ externalId: String) -> UInt32 { FNV1a.hash32(externalId.utf8) }

    /// The shard index of a user among `count` shards.
    public static func index(of externalId: String, count: Int) -> Int { Int(hash(externalId) % UInt32(count)) }

    /// Whether this shard owns the user.
    public func owns(_ externalId: String) -> Bool { Self.index(of: externalId, count: count) == index }

    /// The shard, among as many as this one's, that owns the user.
    public func owner(of externalId: String) -> Shard { Shard(unchecked: Self.index(of: externalId, count: count), count: count) }

    /// The SQL condition on `users.shard_hash` (of the table aliased `alias`) that selects this shard.
    public func sqlCondition(usersAlias alias: String) -> String { "\(alias).shard_hash % \(count) = \(index)" }
}

/// Written as its `I/N` text in configs and JSON.
extension Shard: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

public struct ShardError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
