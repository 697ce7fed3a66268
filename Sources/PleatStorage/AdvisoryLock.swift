import Foundation

/// A PostgreSQL session-level advisory lock named by text, held by a connection of its own for as long
/// as a long run needs it.
///
/// The server releases such a lock when the session ends, so a killed process gives it up; but a
/// connection can also drop under a live process (the server restarts, the network fails). A keeper
/// thread therefore checks the connection every `checkInterval`: when it has dropped, it reconnects and
/// takes the lock again if it is still free. If another process took it meanwhile, the lock is lost,
/// and `check()` throws: the run must stop rather than go on beside another one.
public final class AdvisoryLock: @unchecked Sendable {
    public let name: String
    /// Nil: the lock lives on a connection given to it and is not taken again if that drops.
    private let url: String?
    private let checkInterval: TimeInterval
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private var held = false
    private var lost: String?
    private var keeper: Thread?

    public init(url: String, name: String, checkInterval: TimeInterval = 2) throws {
        (self.url, self.name, self.checkInterval) = (url, name, checkInterval)
        connection = try PostgresConnection(url: url)
    }

    /// A lock held by `connection`, which its caller also uses: checked, but not kept across a drop.
    public init(connection: PostgresConnection, name: String) {
        (self.url, self.name, self.checkInterval) = (nil, name, 0)
        self.connection = connection
    }

    deinit { release() }

    /// Takes the lock if it is free; false when another session holds it.
    public func tryAcquire() throws -> Bool {
        let taken = try lock.withLock { try Self.take(try takenOn(), name: name, wait: false) }
        if taken { startKeeping() }
        return taken
    }

    /// Waits until the lock is free, then takes it.
    public func acquire() throws {
        _ = try lock.withLock { try Self.take(try takenOn(), name: name, wait: true) }
        startKeeping()
    }

    /// The connection the lock is taken on (nil only after `release`).
    private func takenOn() throws -> PostgresConnection {
        guard let connection else { throw PostgresError("the lock \(name) was released: take a new one") }
        return connection
    }

    /// Throws when the lock was lost (its connection dropped and another process took it meanwhile).
    public func check() throws {
        if url == nil, lock.withLock({ connection?.isConnected == false }) { throw PostgresError("lost the lock \(name): its connection dropped") }
        if let reason = lock.withLock({ lost }) { throw PostgresError("lost the lock \(name): \(reason)") }
    }

    /// Whether the lock is held now, as far as the last check knows.
    public var isHeld: Bool { lock.withLock { held && lost == nil } }

    public func release() {
        lock.withLock {
            if held, let connection, connection.isConnected {
                _ = try? connection.query("SELECT pg_advisory_unlock(hashtext($1))", [.text(name)])
            }
            held = false
            connection = nil
        }
    }

    private static func take(_ connection: PostgresConnection, name: String, wait: Bool) throws -> Bool {
        if wait { _ = try connection.query("SELECT pg_advisory_lock(hashtext($1))", [.text(name)]); return true }
        return try connection.query("SELECT pg_try_advisory_lock(hashtext($1))", [.text(name)]).string(0, 0) == "t"
    }

    private func startKeeping() {
        lock.withLock { held = true; lost = nil }
        guard keeper == nil, url != nil else { return }
        // Sleeps first (the lock was just taken on a live session) and holds self only while checking,
        // so that a dropped lock object releases its session.
        let thread = Thread { [weak self, checkInterval] in
            repeat { Thread.sleep(forTimeInterval: checkInterval) } while self?.keepOnce() == true
        }
        thread.name = "pleat-lock-keeper"
        keeper = thread
        thread.start()
    }

    /// One check; false once there is nothing more to keep. Internal so that tests can run a check at a
    /// moment they choose instead of racing the keeper's timer.
    func keepOnce() -> Bool {
        lock.withLock {
            guard held, lost == nil else { return false }
            if let connection, connection.isConnected, (try? connection.query("SELECT 1")) != nil, connection.isConnected { return true }
            // The session is gone, and the lock with it: take it again on a new one if nobody else has.
            guard let url, let fresh = try? PostgresConnection(url: url) else { return true }  // the server is still away: try again
            connection = fresh
            do {
                if try !Self.take(fresh, name: name, wait: false) { lost = "another process took it while the connection was down" }
            } catch {
                return true
            }
            return lost == nil
        }
    }
}
