/// Decides, event by event while the file is read, whether an event can go straight to `interactions`
/// in the COPY that runs alongside parsing.
///
/// Events of users first seen in this batch can, as long as they arrive in strictly increasing key
/// order (a log dumped user by user, for instance): the server then appends to the primary-key index
/// while the client keeps parsing. At the first event out of order, streaming stops for the rest of
/// the file and everything else goes to the spool, to be sorted and stored afterwards.
struct InOrderStream {
    enum Route { case stream, duplicate, spool }

    /// Users with an id at or above this one are new in this batch.
    let firstNewUser: Int32
    private(set) var isOpen = true
    private(set) var last: PendingEvent?
    private(set) var streamed = 0
    private(set) var duplicates = 0

    init(firstNewUser: Int32) { self.firstNewUser = firstNewUser }

    @inline(__always)
    mutating func route(_ event: PendingEvent) -> Route {
        guard isOpen, event.user >= firstNewUser else { return .spool }
        if let last {
            if PendingEvent.sameKey(last, event) { duplicates += 1; return .duplicate }
            guard PendingEvent.precedes(last, event) else { isOpen = false; return .spool }
        }
        last = event
        streamed += 1
        return .stream
    }

    /// Spooled events of users up to this id may collide with streamed or stored ones.
    var mayCollideThroughUser: Int32 { max(firstNewUser - 1, last?.user ?? 0) }
}
