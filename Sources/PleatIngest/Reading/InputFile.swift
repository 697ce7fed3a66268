import Foundation
import PleatCore

/// The bytes of one input, read once from start to end: a file, `-` (standard input), a pipe or a FIFO;
/// gzip and zstd data (recognised by their magic bytes, whatever the name) are decompressed on the way.
///
/// The decompressed bytes are hashed as they are read (on a helper thread), so an input that can only be
/// read once still gets the SHA-256 that identifies a batch, and `log.csv`, `log.csv.gz` and `cat log.csv |`
/// all hash alike. A regular file that changes while it is read (size or modification time) is an error
/// at `finish()`: its rows would not match its hash.
public final class InputFile {
    /// The name the input was given by (`-` for standard input).
    public let name: String
    /// Size of a regular file (compressed bytes for a compressed one), for progress; nil for a stream.
    public let size: Int?
    /// Raw bytes read so far (compressed bytes for a compressed input).
    public private(set) var rawBytesRead = 0

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let opened: FileState?
    private var decoder: Decoder?
    private var sniffed = false
    private var atEnd = false
    private var rawEnded = false
    private let hasher: BackgroundHasher
    private var rawBuffer: UnsafeMutableRawBufferPointer
    private var rawStart = 0, rawEnd = 0
    /// Bytes given by memory (tests and fuzzing) instead of a descriptor.
    private var memory: [UInt8]?

    /// Opens `path`; `-` is standard input.
    public init(path: String) throws {
        name = path
        if path == "-" {
            descriptor = STDIN_FILENO
            ownsDescriptor = false
        } else {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw IngestError("cannot open \(path): \(String(cString: strerror(errno)))") }
            ownsDescriptor = true
        }
        rawBuffer = .allocate(byteCount: 1 << 20, alignment: 16)
        hasher = BackgroundHasher(inline: false)
        var info = stat()
        if fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
            opened = FileState(info)
            size = Int(info.st_size)
        } else if fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            if ownsDescriptor { close(descriptor) }
            throw IngestError("\(path) is a directory")
        } else {
            opened = nil
            size = nil
        }
    }

    /// An input held in memory (tests, fuzzing).
    public init(bytes: [UInt8], name: String) {
        self.name = name
        descriptor = -1
        ownsDescriptor = false
        opened = nil
        size = bytes.count
        memory = bytes
        rawBuffer = .allocate(byteCount: 4096, alignment: 16)  // compressed bytes waiting for the decoder
        hasher = BackgroundHasher(inline: true)  // small inputs: a thread would cost more than the hash
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
        rawBuffer.deallocate()
        hasher.cancel()
    }

    /// Reads up to `buffer.count` decompressed bytes; 0 at the end of the input.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0, !atEnd else { return 0 }
        while true {
            if !sniffed { try sniff() }
            let n: Int
            if let decoder {
                // With the raw input used up, the decoder is still called: it may hold output it had no room for.
                if rawStart == rawEnd, !rawEnded { rawEnded = !(try refill()) }
                var consumed = 0
                n = try decoder.decode(UnsafeRawBufferPointer(rebasing: rawBuffer[rawStart..<rawEnd]), consumed: &consumed,
                                       into: buffer, name: name)
                rawStart += consumed
                if n == 0 {
                    if rawEnded && rawStart == rawEnd {
                        try decoder.finish(name: name)
                    } else {
                        if consumed == 0 && rawStart < rawEnd { throw IngestError("\(name): the compressed data makes no progress") }
                        continue
                    }
                }
            } else if rawStart < rawEnd {
                n = min(buffer.count, rawEnd - rawStart)
                buffer.start.copyMemory(from: rawBuffer.start + rawStart, byteCount: n)
                rawStart += n
            } else {
                n = try readRaw(into: buffer)
            }
            if n == 0 { atEnd = true; return 0 }
            hasher.add(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            return n
        }
    }

    /// The SHA-256 of all decompressed bytes read; throws when a regular file changed while it was read.
    public func finish() throws -> String {
        if let opened {
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { throw IngestError("\(name): cannot check the file after reading it") }
            let now = FileState(info)
            if now != opened || rawBytesRead != opened.size {
                throw IngestError("\(name) changed while it was read (\(opened.size) bytes when opened, \(now.size) now, "
                                  + "\(rawBytesRead) read): nothing was stored; ingest it again once it is complete")
            }
        }
        return hasher.finish()
    }

    // MARK: Internals

    private struct FileState: Equatable {
        let size: Int, modified: timespec, inode: UInt
        init(_ info: stat) { (size, modified, inode) = (Int(info.st_size), info.st_mtim, UInt(info.st_ino)) }
        static func == (a: Self, b: Self) -> Bool {
            a.size == b.size && a.inode == b.inode && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
        }
    }

    /// Looks at the first bytes for a gzip or zstd signature.
    private func sniff() throws {
        sniffed = true
        while rawEnd < 4, try refill(keeping: true) {}
        let head = UnsafeRawBufferPointer(rebasing: rawBuffer[0..<rawEnd])
        if head.count >= 2, head[0] == 0x1F, head[1] == 0x8B {
            decoder = try GzipDecoder()
        } else if head.count >= 4, head[0] == 0x28, head[1] == 0xB5, head[2] == 0x2F, head[3] == 0xFD {
            decoder = try ZstdDecoder()
        }
    }

    /// Reads more raw bytes into `rawBuffer`; false at the end of the input.
    private func refill(keeping: Bool = false) throws -> Bool {
        if !keeping { rawStart = 0; rawEnd = 0 }
        let n = try readRaw(into: UnsafeMutableRawBufferPointer(rebasing: rawBuffer[rawEnd...]))
        rawEnd += n
        return n > 0
    }

    private func readRaw(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let memory {
            let n = min(buffer.count, memory.count - rawBytesRead)
            memory.withUnsafeBytes { buffer.start.copyMemory(from: $0.start + rawBytesRead, byteCount: n) }
            rawBytesRead += n
            return n
        }
        while true {
            let n = Foundation.read(descriptor, buffer.start, buffer.count)
            if n >= 0 { rawBytesRead += n; return n }
            if errno == EINTR { continue }
            throw IngestError("read error in \(name): \(String(cString: strerror(errno)))")
        }
    }
}

/// A streaming decompressor.
protocol Decoder: AnyObject {
    /// Decompresses from `input` into `output`; sets how many input bytes it used, returns output bytes.
    func decode(_ input: UnsafeRawBufferPointer, consumed: inout Int, into output: UnsafeMutableRawBufferPointer, name: String) throws -> Int
    /// Called at the end of the raw input: throws if the compressed data stopped mid-stream.
    func finish(name: String) throws
}

/// SHA-256 of the bytes handed to it, computed on its own thread from copies, so the parse never waits
/// for the hash (or in the caller's thread, `inline`). Copies go into a few reused buffers: at most
/// `slots` chunks wait, so memory stays bounded if the hash falls behind, and no chunk maps fresh pages.
private final class BackgroundHasher: @unchecked Sendable {
    private let inline: Bool
    private var hash = SHA256()
    private var queue: [(buffer: UnsafeMutableRawBufferPointer, count: Int)] = []
    private var spare: [UnsafeMutableRawBufferPointer] = []
    private var allocated = 0
    private let slots = 4
    private var finished = false, cancelled = false
    private let condition = NSCondition()
    private let done = DispatchSemaphore(value: 0)
    /// The worker holds the hasher until it ends (on `finish` or `cancel`), so it never outlives it.
    private var started = false

    init(inline: Bool) { self.inline = inline }

    deinit { for buffer in spare + queue.map(\.buffer) { buffer.deallocate() } }

    func add(_ bytes: UnsafeRawBufferPointer) {
        if inline { hash.update(buffer: bytes.bindMemory(to: UInt8.self)); return }
        if !started {
            started = true
            Thread.detachNewThread { self.work() }
        }
        condition.lock()
        while spare.isEmpty && allocated >= slots { condition.wait() }
        var buffer: UnsafeMutableRawBufferPointer
        if let reused = spare.popLast() { buffer = reused } else {
            allocated += 1
            buffer = .allocate(byteCount: max(bytes.count, 4 << 20), alignment: 64)
        }
        condition.unlock()
        if buffer.count < bytes.count {
            buffer.deallocate()
            buffer = .allocate(byteCount: bytes.count, alignment: 64)
        }
        buffer.start.copyMemory(from: bytes.start, byteCount: bytes.count)
        condition.lock()
        queue.append((buffer, bytes.count))
        condition.broadcast()
        condition.unlock()
    }

    func finish() -> String {
        guard started else { return hash.finalizeHex() }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
        done.wait()
        return hash.finalizeHex()
    }

    func cancel() {
        guard started else { return }
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !finished && !cancelled { condition.wait() }
            if cancelled || (queue.isEmpty && finished) {
                condition.unlock()
                if !cancelled { done.signal() }
                return
            }
            let (buffer, count) = queue.removeFirst()
            condition.unlock()
            hash.update(buffer: UnsafeBufferPointer(start: buffer.start.assumingMemoryBound(to: UInt8.self), count: count))
            condition.lock()
            spare.append(buffer)
            condition.broadcast()
            condition.unlock()
        }
    }
}
