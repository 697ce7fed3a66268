import CLibPQ
import Foundation

extension PostgresConnection {
    /// One `NOTIFY` received: its channel and payload.
    public struct Notification: Sendable, Equatable {
        public let channel: String, payload: String
    }

    /// Waits up to `seconds` for notifications on the channels this connection `LISTEN`s to and returns
    /// those that arrived (empty after the timeout). Throws when the connection is lost, so the caller
    /// knows it may have missed some.
    public func notifications(waitingUpTo seconds: Double) throws -> [Notification] {
        var received = try drainNotifications()
        if !received.isEmpty { return received }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        guard descriptor.fd >= 0 else { throw lastError("waiting for notifications") }
        let ready = poll(&descriptor, 1, Int32(max(0, seconds) * 1_000))
        if ready < 0 && errno != EINTR { throw PostgresError("waiting for notifications: \(String(cString: strerror(errno)))") }
        if ready > 0 {
            guard PQconsumeInput(handle) == 1 else { throw lastError("waiting for notifications") }
            received = try drainNotifications()
        }
        return received
    }

    private func drainNotifications() throws -> [Notification] {
        guard isConnected else { throw lastError("waiting for notifications") }
        var received: [Notification] = []
        while let raw = PQnotifies(handle) {
            received.append(Notification(channel: String(cString: raw.pointee.relname), payload: String(cString: raw.pointee.extra)))
            PQfreemem(raw)
        }
        return received
    }
}
