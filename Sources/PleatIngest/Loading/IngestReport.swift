/// What one ingest did; printed as a table, or as one JSON line with `--json`.
public struct IngestReport: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// Stored.
        case committed
        /// Too many bad rows: the batch and its rejected rows are recorded, no interactions stored.
        case aborted
        /// A committed batch already holds the same file(s); nothing was done.
        case alreadyIngested = "already_ingested"
    }

    public var status: Status
    public var batchId: Int?
    public var source: String
    public var sha256: String
    public var rowsRead = 0
    public var rowsLoaded = 0
    public var rowsRejected = 0
    public var duplicates = 0
    public var newUsers = 0
    public var newItems = 0
    public var itemsDescribed = 0
    public var itemRowsRejected = 0
    public var rejectsByKind: [RowRejection.Kind: Int] = [:]
    /// The first rejected rows (at most `RejectedRow.shown`): where, why, and the row as read.
    public var firstRejects: [RejectedRow] = []
    /// The first load into an empty database: written without the WAL (`InteractionPartitions.prepareFirstLoad`).
    public var firstLoad = false
    public var seconds = 0.0
    /// Where the time went: hash, read (parse, map ids, stream in-order events), store (sort, catalogue,
    /// spooled events, metadata, rejects), commit.
    public var phaseSeconds: [String: Double] = [:]
    public var message: String?

    public init(status: Status, batchId: Int? = nil, source: String, sha256: String, message: String? = nil,
                phaseSeconds: [String: Double] = [:]) {
        (self.status, self.batchId, self.source, self.sha256, self.message, self.phaseSeconds) = (status, batchId, source, sha256, message, phaseSeconds)
    }

    public var rowsPerSecond: Double { seconds > 0 ? Double(rowsRead) / seconds : 0 }

    /// One rejected row as the report shows it; `rejected_rows` keeps every one, whole.
    public struct RejectedRow: Codable, Sendable, Equatable {
        /// Rows a report shows, and the bytes of each it quotes.
        public static let shown = 5, rawBytesShown = 120
        public var source: String
        public var line: Int
        public var reason: String
        /// The row's first `rawBytesShown` bytes as read (invalid UTF-8 replaced).
        public var raw: String
    }
}
