/// `start`: the address of a buffer's first element, for pointer arithmetic and C calls, without a
/// force-unwrap at every use. A buffer with no elements has no `baseAddress`; it gets an aligned address
/// that nothing reads, since every use reads at most `count` (here 0) elements from it.
extension UnsafeBufferPointer {
    @inlinable public var start: UnsafePointer<Element> { baseAddress ?? UnsafePointer(addressOfNothing(Element.self)) }
}

extension UnsafeMutableBufferPointer {
    @inlinable public var start: UnsafeMutablePointer<Element> { baseAddress ?? addressOfNothing(Element.self) }
}

extension UnsafeRawBufferPointer {
    @inlinable public var start: UnsafeRawPointer { baseAddress ?? UnsafeRawPointer(addressOfNothing(UInt8.self)) }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable public var start: UnsafeMutableRawPointer { baseAddress ?? UnsafeMutableRawPointer(addressOfNothing(UInt8.self)) }
}

/// A non-null, aligned address for an empty buffer, never dereferenced.
@usableFromInline func addressOfNothing<T>(_: T.Type) -> UnsafeMutablePointer<T> {
    // Cannot fail: the pointer is nil only for bit pattern 0, and an alignment is at least 1.
    UnsafeMutablePointer(bitPattern: MemoryLayout<T>.alignment)!
}
