/// Settings of one `pleat ingest` run.
public struct IngestOptions: Sendable {
    public var format: InteractionFormat
    public var mapping: ColumnMapping
    /// Item metadata (categories/genres) loaded in the same batch.
    public var itemsFile: String?
    /// Format of `itemsFile`; defaults to `format`.
    public var itemsFormat: InteractionFormat?
    /// Above this share of rejected rows the batch stores no interactions (default 1%).
    public var maxRejectRate: Double
    public var showProgress: Bool

    public init(format: InteractionFormat, mapping: ColumnMapping = ColumnMapping(), itemsFile: String? = nil,
                itemsFormat: InteractionFormat? = nil, maxRejectRate: Double = 0.01, showProgress: Bool = false) {
        self.format = format
        self.mapping = mapping
        self.itemsFile = itemsFile
        self.itemsFormat = itemsFormat
        self.maxRejectRate = maxRejectRate
        self.showProgress = showProgress
    }
}
