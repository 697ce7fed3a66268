import PleatStorage

/// The id-mapping stage of an ingest: turns a parsed, valid row (`EventFields`, ids as bytes) into a
/// `PendingEvent` of dense internal ids, or into the one rejection this stage can decide: a new user,
/// item or event type past its limit. Parsing and validation decided every other rejection before.
struct EventMapper {
    private(set) var catalogue: Catalogue
    /// The event type of rows without one (the format's, known once the header is read).
    private let defaultEvent: () -> String
    private var defaultEventId: Int16?

    init(catalogue: Catalogue, defaultEvent: @escaping () -> String) {
        (self.catalogue, self.defaultEvent) = (catalogue, defaultEvent)
    }

    /// The row's event, or why it cannot be stored.
    mutating func map(_ event: EventFields, line: Int) -> Result<PendingEvent, RowRejection> {
        let eventId: Int16
        if let name = event.event {
            guard let id = catalogue.events.id(for: name) else {
                return .failure(RowRejection(.tooManyEventTypes, "a new event type past the limit of \(IngestLimits.maxEventTypes)"))
            }
            eventId = Int16(id)
        } else {
            guard let id = defaultEventId ?? resolveDefaultEvent() else {
                return .failure(RowRejection(.tooManyEventTypes, "the default event type is past the limit of \(IngestLimits.maxEventTypes)"))
            }
            eventId = id
        }
        guard let user = catalogue.users.id(for: event.user), let item = catalogue.items.id(for: event.item) else {
            return .failure(RowRejection(.tooManyIds, "a new user or item past the limit of \(IngestLimits.maxIds)"))
        }
        return .success(PendingEvent(micros: event.unixMicros, line: Int64(line), user: user, item: item, value: event.value ?? .nan,
                                     event: eventId, partition: InteractionPartitions.partition(ofUser: event.user)))
    }

    /// The internal id of an item named by the item file.
    mutating func item(_ externalId: String) -> Result<Int32, RowRejection> {
        var key = externalId
        guard let id = key.withUTF8({ catalogue.items.id(for: $0) }) else {
            return .failure(RowRejection(.tooManyIds, "a new item past the limit of \(IngestLimits.maxIds)"))
        }
        return .success(id)
    }

    private mutating func resolveDefaultEvent() -> Int16? {
        var name = defaultEvent()
        defaultEventId = name.withUTF8 { catalogue.events.id(for: $0) }.map(Int16.init)
        return defaultEventId
    }
}
