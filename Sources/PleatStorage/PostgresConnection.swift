import CLibPQ
import Foundation
import PleatCore

/// One libpq connection. Not thread-safe: use one per thread of work.
///
/// Pleat talks to PostgreSQL through libpq directly: it is the fastest bulk path (binary COPY) and
/// costs seconds to build, where a pure-Swift driver costs minutes on every clean CI run.
public final class PostgresConnection {
    let handle: OpaquePointer
    /// What it connected with, so that work can open sibling connections (parallel reads).
    public let url: String

    /// Limits for a connection that serves requests: how long to wait for the server, and for a statement.
    public struct Timeouts: Sendable {
        public var connectSeconds: Int
        public var statementMilliseconds: Int
        public init(connectSeconds: Int, statementMilliseconds: Int) {
            (self.connectSeconds, self.statementMilliseconds) = (connectSeconds, statementMilliseconds)
        }
    }

    /// Connects with a libpq connection string or a `postgresql://` URL; `timeouts` bound the connection
    /// attempt (libpq's connect_timeout) and every statement (the session's statement_timeout).
    public init(url: String, timeouts: Timeouts? = nil) throws {
        var keywords = ["dbname"], values = [url]
        if let timeouts {
            keywords += ["connect_timeout", "options"]
            values += [String(max(1, timeouts.connectSeconds)), "-c statement_timeout=\(timeouts.statementMilliseconds)"]
        }
        let conn: OpaquePointer? = keywords.withCStrings { k in
            values.withCStrings { v in PQconnectdbParams(k, v, 1) }
        }
        guard let conn else { throw PostgresError("out of memory creating connection") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn))
            PQfinish(conn)
            throw PostgresError("cannot connect to PostgreSQL (\(ConnectionString.redacted(url))): \(ConnectionString.redacted(message))")
        }
        handle = conn
        self.url = url
        // Room for several COPY chunks in flight, so parsing and the server's work overlap.
        var size: Int32 = 8 << 20
        setsockopt(PQsocket(conn), SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        try execute("SET client_min_messages = warning")
    }

    deinit { PQfinish(handle) }

    /// False once the connection to the server is lost (the server restarted, or the network dropped):
    /// such a connection is not usable again and must be replaced.
    public var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Runs one or more statements that return no rows we need.
    @discardableResult
    public func execute(_ sql: String) throws -> Int {
        let result = try QueryResult(PQexec(handle, sql), connection: handle)
        return result.affectedRows
    }

    /// Runs one statement with parameters `$1`, `$2`, ….
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws -> QueryResult {
        let cStrings = parameters.map { $0.wireText.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        let pointers = cStrings.map { UnsafePointer<CChar>($0) }
        let raw = pointers.withUnsafeBufferPointer { buffer in
            PQexecParams(handle, sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        return try QueryResult(raw, connection: handle)
    }

    /// Runs `body` inside BEGIN/COMMIT, rolling back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try Transaction.run(begin: "BEGIN", execute: { try execute($0) }, body)
    }

    // MARK: COPY

    /// Streams rows into the server with `COPY … FROM STDIN`; `body` sends data through the writer.
    /// Returns the rows the server stored.
    @discardableResult
    public func copyIn(_ copyStatement: String, _ body: (CopyInWriter) throws -> Void) throws -> Int {
        let start = try QueryResult(PQexec(handle, copyStatement), connection: handle, expecting: PGRES_COPY_IN)
        _ = start
        let writer = CopyInWriter(handle: handle)
        do {
            try body(writer)
            try writer.flushBuffer()
        } catch {
            PQputCopyEnd(handle, "aborted by client: \(error)")
            _ = try? QueryResult(PQgetResult(handle), connection: handle)
            drainResults()
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else { throw lastError("COPY end") }
        let result = try QueryResult(PQgetResult(handle), connection: handle)
        drainResults()
        return result.affectedRows
    }

    /// Reads rows out of the server with `COPY … TO STDOUT`, calling `body` for each data chunk (one row
    /// per chunk in text format).
    public func copyOut(_ copyStatement: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        _ = try QueryResult(PQexec(handle, copyStatement), connection: handle, expecting: PGRES_COPY_OUT)
        var buffer: UnsafeMutablePointer<CChar>? = nil
        while true {
            let length = PQgetCopyData(handle, &buffer, 0)
            if length == -1 { break }
            if length == -2 { throw lastError("COPY out") }
            guard let buffer else { throw PostgresError("COPY out: libpq returned \(length) bytes without a buffer") }
            defer { PQfreemem(buffer) }
            try buffer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                try body(UnsafeBufferPointer(start: $0, count: Int(length)))
            }
        }
        _ = try QueryResult(PQgetResult(handle), connection: handle)
        drainResults()
    }

    private func drainResults() {
        while let next = PQgetResult(handle) { PQclear(next) }
    }

    func lastError(_ context: String) -> PostgresError {
        PostgresError("\(context): \(String(cString: PQerrorMessage(handle)))")
    }
}

extension PostgresConnection {
    /// Streams a `COPY … TO STDOUT (FORMAT binary)` result row by row; each field is its raw binary
    /// value (big-endian numbers, UTF-8 text) or nil for NULL. Buffers are valid during the call only.
    public func copyOutBinary(_ copyStatement: String, _ row: ([UnsafeBufferPointer<UInt8>?]) throws -> Void) throws {
        var headerPending = true
        var fields: [UnsafeBufferPointer<UInt8>?] = []
        try copyOut(copyStatement) { chunk in
            var p = 0
            if headerPending {
                headerPending = false
                // Signature (11), flags (4), header extension length (4) + extension.
                let extensionLength = Int(chunk.loadBigEndian(Int32.self, at: 15))
                p = 19 + extensionLength
            }
            while p < chunk.count {
                let count = Int(chunk.loadBigEndian(Int16.self, at: p))
                p += 2
                if count == -1 { return }  // trailer
                fields.removeAll(keepingCapacity: true)
                for _ in 0..<count {
                    let length = Int(chunk.loadBigEndian(Int32.self, at: p))
                    p += 4
                    if length < 0 { fields.append(nil); continue }
                    fields.append(UnsafeBufferPointer(rebasing: chunk[p..<(p + length)]))
                    p += length
                }
                try row(fields)
            }
        }
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// A big-endian integer at a byte offset (unaligned). Inlinable: called once per field of every COPY
    /// row in other modules, where an unspecialised generic call cost more than the parse.
    @inlinable @inline(__always) public func loadBigEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int = 0) -> T {
        T(bigEndian: UnsafeRawBufferPointer(self).loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension PostgresConnection {
    /// Sends the bytes from `handle`'s current offset to its end, already in the statement's COPY format,
    /// with `COPY … FROM STDIN`. A handle rather than a path, so that a spool file can be unlinked as soon
    /// as it is opened and never outlive a killed process.
    @discardableResult
    public func copyIn(_ copyStatement: String, from handle: FileHandle) throws -> Int {
        try copyIn(copyStatement) { writer in
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                try chunk.withUnsafeBytes { try writer.write($0) }
            }
        }
    }
}

extension Array where Element == String {
    /// The strings as a NULL-terminated array of C strings, for libpq's keyword/value calls.
    func withCStrings<T>(_ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
        let copies = map { strdup($0) } + [nil]
        defer { copies.forEach { free($0) } }
        return copies.map { $0.map { UnsafePointer($0) } }.withUnsafeBufferPointer { body($0.start) }
    }
}
