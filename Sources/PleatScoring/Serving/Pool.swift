import Foundation

/// Objects that must not be shared between threads (database connections), handed out one caller at
/// a time and made on demand. One that is no longer usable after a call (a connection the server
/// dropped) is discarded instead of going back, so the next caller gets a new one.
final class Pool<Element>: @unchecked Sendable {
    private var idle: [Element] = []
    private let lock = NSLock()
    private let make: () throws -> Element
    private let isUsable: (Element) -> Bool

    init(make: @escaping () throws -> Element, isUsable: @escaping (Element) -> Bool = { _ in true }) {
        (self.make, self.isUsable) = (make, isUsable)
    }

    func with<T>(_ body: (Element) throws -> T) throws -> T {
        let element = try lock.withLock { idle.popLast() } ?? make()
        defer { if isUsable(element) { lock.withLock { idle.append(element) } } }
        return try body(element)
    }

    /// Drops every idle element (after the server they talk to went away).
    func drain() { lock.withLock { idle.removeAll() } }
}
