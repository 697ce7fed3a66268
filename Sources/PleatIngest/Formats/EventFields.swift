/// One parsed interaction, its ids still as raw bytes (valid only inside the parser's callback).
public struct EventFields {
    public var user: UnsafeBufferPointer<UInt8>
    public var item: UnsafeBufferPointer<UInt8>
    public var unixMicros: Int64
    /// Nil means the format's default event type.
    public var event: UnsafeBufferPointer<UInt8>?
    public var value: Float?
}
