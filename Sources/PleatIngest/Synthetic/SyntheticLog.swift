import Foundation
import PleatCore

/// Writes a synthetic interaction log with known sequential structure, for demos, tests and scale
/// benchmarks where the right answer is known in advance.
///
/// Planted structure (each is a signal a sequential model can learn, and a baseline cannot):
/// - Category-level Markov chain: after an event in category c, the next event is most likely in one of
///   c's two successor categories.
/// - Within a category, items are consumed in catalogue order: the next item after item k of a category
///   is usually item k+1 of that category.
/// - Repeat consumption: sometimes a recently consumed item is consumed again.
/// - Long-range returns: each user has a "home" category they come back to after long gaps; on return
///   they continue where they left off there, even thousands of events later.
///
/// With `funnel`, events say how the item was touched, as a shop's log does (`Funnel`): every consumed
/// item is a `view`; some views put the item in the cart (`cart`, shortly after); purchases (`buy`) are of
/// carted items only and never repeat, while views repeat as above. What a user buys next is then one
/// of the items in their cart: a model that reads the behaviours can know it, one that reads ids alone
/// sees carted and merely viewed items alike. Without it each event is a `view` or, at random, a
/// `purchase`.
public struct SyntheticLog: Sendable {
    public struct Settings: Sendable, Codable {
        public var users = 1_000
        public var items = 2_000
        public var categories = 20
        /// History lengths are log-normal around this median, clamped to [minEvents, maxEvents].
        public var medianEvents = 60
        public var minEvents = 5
        public var maxEvents = 2_000
        /// This many users, spread evenly over the ids, get a long history instead: uniform in
        /// [maxEvents / 2, maxEvents] (the heavy tail of real logs, for scale runs).
        public var longUsers = 0
        public var seed: UInt64 = 42
        /// Probability of re-consuming one of the last 10 items.
        public var repeatProbability = 0.08
        /// Probability of returning to the user's home category when away from it.
        public var returnProbability = 0.01
        /// Write the view → cart → buy funnel (`Funnel`) instead of random `view`/`purchase` labels.
        public var funnel = false

        public init() {}
    }

    /// The funnel's behaviours and rates.
    public enum Funnel {
        public static let view = "view", cart = "cart", buy = "buy"
        /// Probability that a view puts the item in the cart (when it is not there and not bought yet).
        public static let cartProbability = 0.15
        /// Probability, after each view, of buying one of the carted items (each equally likely).
        public static let buyProbability = 0.25
    }

    public let settings: Settings
    /// Index of each category's first item (items are laid out category by category).
    private let categoryStart: [Int]

    public init(settings: Settings) {
        self.settings = settings
        let share = settings.items / settings.categories, extra = settings.items % settings.categories
        categoryStart = (0..<settings.categories).map { c in c * share + min(c, extra) }
    }

    /// Summary of what was written.
    public struct Output: Sendable, Codable {
        public var users: Int
        public var items: Int
        public var events: Int
        /// Events per behaviour.
        public var behaviours: [String: Int] = [:]
        public var seconds: Double
    }

    /// Writes `user_id,item_id,timestamp,event_type` CSV (Unix seconds) and an item file
    /// `item_id,category,title`. Users are written one after another, each in time order.
    public func write(interactions path: String, items itemsPath: String, progress: Bool = false) throws -> Output {
        let start = Date()
        let s = settings
        precondition(s.items >= s.categories && s.categories >= 3, "need at least 3 categories and one item per category")
        try writeItems(itemsPath)
        guard let out = OutputStream(toFileAtPath: path, append: false) else { throw IngestError("cannot write \(path)") }
        out.open()
        defer { out.close() }
        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 20)
        buffer += Array("user_id,item_id,timestamp,event_type\n".utf8)

        let successors = (0..<s.categories).map { c in [(c * 7 + 3) % s.categories, (c * 13 + 5) % s.categories] }
        let root = RandomSource(seed: s.seed)
        let line = ProgressLine("synth", unit: "users", total: s.users, enabled: progress)
        var events = 0, behaviours: [String: Int] = [:]
        for user in 0..<s.users {
            var rng = root.split(UInt64(user))
            let length = isLong(user) ? rng.below(s.maxEvents - s.maxEvents / 2 + 1) + s.maxEvents / 2 : historyLength(&rng)
            var time = 1_672_531_200 + Int64(rng.below(180 * 86_400))  // start in the first half of 2023
            let home = rng.below(s.categories)
            var category = rng.below(s.categories)
            var position = [Int](repeating: -1, count: s.categories)  // last item index consumed per category
            var recent: [Int] = []
            var funnel = FunnelState()
            for _ in 0..<length {
                let item: Int
                if !recent.isEmpty, rng.uniform() < s.repeatProbability {
                    item = recent[rng.below(recent.count)]
                } else {
                    if category != home, rng.uniform() < s.returnProbability {
                        category = home
                    } else {
                        let r = rng.uniform()
                        category = r < 0.7 ? successors[category][0] : r < 0.9 ? successors[category][1] : rng.below(s.categories)
                    }
                    let size = categorySize(category)
                    let next = rng.uniform() < 0.8 ? position[category] + 1 : rng.below(size)
                    position[category] = next % size
                    item = itemId(category: category, index: position[category])
                }
                recent.append(item)
                if recent.count > 10 { recent.removeFirst() }
                // Sessions: short gaps inside, long gaps between.
                time += rng.uniform() < 0.1 ? Int64(rng.exponential(mean: 86_400)) + 3_600 : Int64(rng.exponential(mean: 120)) + 1
                if s.funnel {
                    for (offset, touch) in funnel.events(after: item, rng: &rng) {
                        buffer += Array("u\(user + 1),i\(touch.item + 1),\(time + offset),\(touch.behaviour)\n".utf8)
                        behaviours[touch.behaviour, default: 0] += 1
                        events += 1
                    }
                    time += 600  // after the funnel's own events
                } else {
                    let event = rng.uniform() < 0.1 ? "purchase" : "view"
                    buffer += Array("u\(user + 1),i\(item + 1),\(time),\(event)\n".utf8)
                    behaviours[event, default: 0] += 1
                    events += 1
                }
            }
            if buffer.count > 1 << 20 { try flush(&buffer, to: out) }
            if user % 256 == 0 { line.update(done: user) }
        }
        try flush(&buffer, to: out)
        line.update(done: s.users)
        line.finish()
        return Output(users: s.users, items: s.items, events: events, behaviours: behaviours, seconds: Date().timeIntervalSince(start))
    }

    /// Items are laid out category by category; category c holds a near-equal share.
    func categorySize(_ c: Int) -> Int { settings.items / settings.categories + (c < settings.items % settings.categories ? 1 : 0) }

    func itemId(category: Int, index: Int) -> Int { categoryStart[category] + index }

    /// Every (users / longUsers)-th user, from the first.
    private func isLong(_ user: Int) -> Bool {
        settings.longUsers > 0 && user % max(1, settings.users / settings.longUsers) == 0 && user / max(1, settings.users / settings.longUsers) < settings.longUsers
    }

    private func historyLength(_ rng: inout RandomSource) -> Int {
        let s = settings
        let length = Double(s.medianEvents) * exp(1.0 * rng.normal())
        return min(s.maxEvents, max(s.minEvents, Int(length.rounded())))
    }

    private func writeItems(_ path: String) throws {
        var text = "item_id,category,title\n"
        for c in 0..<settings.categories {
            for k in 0..<categorySize(c) {
                text += "i\(itemId(category: c, index: k) + 1),cat\(c + 1),Item \(k + 1) of category \(c + 1)\n"
            }
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func flush(_ buffer: inout [UInt8], to out: OutputStream) throws {
        var offset = 0
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBufferPointer { out.write($0.start, maxLength: $0.count) }
            if written <= 0 { throw IngestError("write failed: \(out.streamError.map { "\($0)" } ?? "unknown error")") }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
