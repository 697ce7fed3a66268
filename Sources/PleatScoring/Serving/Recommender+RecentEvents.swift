import Foundation
import PleatStorage

extension Recommender {
    /// The user's next items given `recent` events that no ingest has stored yet (what the user did in
    /// this session), scored live with the active model exactly as if they had been ingested first: they
    /// join the stored history in `UserTable.history`'s order, and an event identical to a stored one
    /// counts once, as ingest's key counts it. The list is not cached (the cache holds lists of stored
    /// histories only). A user without stored events is scored from `recent` alone; events of items the
    /// model does not know are left out, as in any history. `now` dates events that carry no time.
    public func recommend(user: String, k: Int, event: String? = nil, recent: [RecentEvent],
                          now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> Recommendation {
        try Self.check(user: user, recent: recent)
        if !databaseReachable { throw RecommenderUnavailable(reason: "PostgreSQL was unreachable moments ago") }
        do {
            return try sessions.with { session in
                let active = try session.cache.activeSet()
                var history = UserTable.History()
                // The watch knows the user's id and newest event since the last commit: no question then.
                if let (userId, newest) = try watch?.newestEvent(of: user) ?? UserTable(session.db).newestEvent(of: user), newest != nil {
                    history = try UserTable(session.db).history(of: userId)
                }
                let itemIds = try ItemTable(session.db).ids(of: Array(Set(recent.map(\.item))))
                return try modelLock.withLock {
                    let model = try liveModel(active?.modelId, db: session.db)
                    if let event { try model.checkEvent(event) }
                    var events: [UserTable.History.Event] = [], positions: [Int] = []
                    for (i, e) in recent.enumerated() {
                        let eventType = try Self.eventType(of: e, at: i, known: model.eventTypes)
                        // An item this database has never stored is unknown to every model it serves.
                        guard let item = itemIds[e.item] else { continue }
                        events.append(.init(item: item, second: e.time ?? now, eventType: eventType, value: e.value ?? .nan))
                        positions.append(i)
                    }
                    let added = history.add(events)
                    var (answer, _) = try scoreLocked(user: user, k: k, event: event, model: model, active: active, history: history, db: session.db)
                    answer.recentEvents = zip(events, added).filter { $1 && model.itemIndex.modelIndex(of: $0.item) != nil }.count
                    return answer
                }
            }
        } catch let error as PostgresError {
            noteDatabaseFailure()
            throw RecommenderUnavailable(reason: "PostgreSQL: \(ConnectionString.redacted(error.description))")
        }
    }

    /// The request's shape, before anything is looked up: ids `EventRules` accepts, times in its range,
    /// at most `RecentEvent.maximumPerRequest` events.
    static func check(user: String, recent: [RecentEvent]) throws {
        if let problem = EventRules.idProblem(user) { throw RecentEventError(index: nil, problem: RecentEventError.describe(problem, "the user id")) }
        guard recent.count <= RecentEvent.maximumPerRequest else {
            throw RecentEventError(index: nil, problem: "\(recent.count) events: at most \(RecentEvent.maximumPerRequest) per request (ingest more)")
        }
        for (i, e) in recent.enumerated() {
            if let problem = EventRules.idProblem(e.item) { throw RecentEventError(index: i, problem: RecentEventError.describe(problem, "the item id")) }
            if let name = e.event, let problem = EventRules.idProblem(name) {
                throw RecentEventError(index: i, problem: RecentEventError.describe(problem, "the event type"))
            }
            if let time = e.time, !EventRules.seconds.contains(time) {
                throw RecentEventError(index: i, problem: "time \(time) is outside \(EventRules.seconds.lowerBound)...\(EventRules.seconds.upperBound) (Unix seconds)")
            }
            if let value = e.value, !value.isFinite { throw RecentEventError(index: i, problem: "value \(value) is not a finite number") }
        }
    }

    /// The database's id of the event's type: its name, or without one the type ingest gives rows
    /// without one (the database's only type, or `interaction`). A type the database has never stored
    /// is refused: no model it serves has seen that behaviour.
    static func eventType(of event: RecentEvent, at index: Int, known: [String: Int16]) throws -> Int16 {
        if let name = event.event {
            guard let id = known[name] else {
                throw RecentEventError(index: index, problem: UnknownEventType(name: name, known: known.keys.sorted()).description)
            }
            return id
        }
        if known.count == 1, let only = known.values.first { return only }
        if let id = known[RecentEvent.defaultEventType] { return id }
        throw RecentEventError(index: index, problem: "the event type is required: this database has \(known.keys.sorted().joined(separator: ", "))")
    }
}
