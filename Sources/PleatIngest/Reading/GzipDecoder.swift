import CZlib
import PleatCore

/// gzip through zlib, with concatenated members (what `cat a.gz b.gz` and parallel gzip tools write).
final class GzipDecoder: Decoder {
    private var stream = z_stream()
    /// True between members: the next input byte starts a new member (or the input has ended).
    private var betweenMembers = false

    init() throws {
        // 15 + 16: a gzip header and trailer around a deflate stream with a 32 KiB window.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw IngestError("cannot start zlib: \(String(cString: stream.msg))")
        }
    }

    deinit { inflateEnd(&stream) }

    func decode(_ input: UnsafeRawBufferPointer, consumed: inout Int, into output: UnsafeMutableRawBufferPointer, name: String) throws -> Int {
        if betweenMembers {
            guard !input.isEmpty else { return 0 }  // the input ends after a whole member: done
            guard inflateReset(&stream) == Z_OK else { throw IngestError("\(name): cannot restart zlib") }
            betweenMembers = false
        }
        stream.next_in = UnsafeMutablePointer(mutating: input.start.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        stream.next_out = output.start.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(output.count)
        let status = inflate(&stream, Z_NO_FLUSH)
        consumed = input.count - Int(stream.avail_in)
        let produced = output.count - Int(stream.avail_out)
        switch status {
        case Z_OK, Z_BUF_ERROR: break
        case Z_STREAM_END: betweenMembers = true
        default:
            let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
            throw IngestError("\(name): corrupt gzip data (\(reason)); nothing was stored")
        }
        return produced
    }

    func finish(name: String) throws {
        guard betweenMembers else { throw IngestError("\(name): the gzip data ends early (truncated file?); nothing was stored") }
    }
}
