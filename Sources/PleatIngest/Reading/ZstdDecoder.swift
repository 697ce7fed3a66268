import CZstd

/// Zstandard through libzstd's streaming API; several frames one after another are read as one input.
final class ZstdDecoder: Decoder {
    private let stream: OpaquePointer
    /// libzstd's hint: 0 once a frame is complete and flushed.
    private var hint = 1

    init() throws {
        guard let stream = ZSTD_createDStream() else { throw IngestError("cannot start zstd") }
        self.stream = stream
        ZSTD_initDStream(stream)
    }

    deinit { ZSTD_freeDStream(stream) }

    func decode(_ input: UnsafeRawBufferPointer, consumed: inout Int, into output: UnsafeMutableRawBufferPointer, name: String) throws -> Int {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let result = ZSTD_decompressStream(stream, &target, &source)
        if ZSTD_isError(result) != 0 {
            throw IngestError("\(name): corrupt zstd data (\(String(cString: ZSTD_getErrorName(result)))); nothing was stored")
        }
        // A call that did nothing (no input left, everything flushed) says how much a next frame would need.
        if source.pos > 0 || target.pos > 0 { hint = result }
        consumed = source.pos
        return target.pos
    }

    func finish(name: String) throws {
        guard hint == 0 else { throw IngestError("\(name): the zstd data ends early (truncated file?); nothing was stored") }
    }
}
