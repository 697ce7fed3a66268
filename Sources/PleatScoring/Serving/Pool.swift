import Foundation

/// Objects that must not be shared between threads (database connections), handed out one caller at
/// a time and made on demand.
final class Pool<Element>: @unchecked Sendable {
    private var idle: [Element] = []
    private let lock = NSLock()
    private let make: () throws -> Element

    init(make: @escaping () throws -> Element) { self.make = make }

    func with<T>(_ body: (Element) throws -> T) throws -> T {
        let element = try lock.withLock { idle.popLast() } ?? make()
        defer { lock.withLock { idle.append(element) } }
        return try body(element)
    }
}
