/// One parsed interaction, its ids still as raw bytes (valid only inside the parser's callback).
struct EventFields {
    var user: UnsafeBufferPointer<UInt8>
    var item: UnsafeBufferPointer<UInt8>
    var unixMicros: Int64
    /// Nil means the format's default event type.
    var event: UnsafeBufferPointer<UInt8>?
    var value: Float?
}
