import Foundation

/// Messages gathered from several threads (a concurrency test's failures or outcomes), read at the end.
public final class FailureLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    public init() {}
    public var all: [String] { lock.withLock { items } }
    public func add(_ item: String) { lock.withLock { items.append(item) } }
}
