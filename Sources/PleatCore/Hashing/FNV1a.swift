/// FNV-1a (Fowler-Noll-Vo): h = basis; for each byte b, h = (h XOR b) × prime, in 32 or 64 bits. Cheap
/// and good enough for short keys: the shard function (32 bits, also computed by PostgreSQL, so it can
/// never change) and the ingest's hash tables of ids (64 bits). Inlinable: ingest hashes every id of
/// every row with it.
public enum FNV1a {
    @inlinable @inline(__always)
    public static func hash32(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }

    @inlinable @inline(__always)
    public static func hash64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
