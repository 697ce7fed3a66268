import PleatCore
/// External id → dense internal id, keyed by raw bytes so the hot path never allocates a String.
///
/// Loaded with the ids already in the database; new external ids get the next free id. Keys live
/// back to back in one arena; the table is open addressing with linear probing.
struct IdMap {
    private var arena: [UInt8] = []
    private var keyStart: [Int] = []
    private var keyLength: [Int32] = []
    private var ids: [Int32] = []
    private var slots: [Int32]  // entry index, or -1
    private var mask: Int
    /// The id the next new key gets (64-bit, so that the one past `Int32.max` can be represented).
    private(set) var nextId = 1
    /// Ids from here on were assigned by this ingest.
    private(set) var firstNewId: Int32 = 1
    /// Entries from here on were added by this ingest.
    private var firstNew = 0

    /// The largest id this map may assign (the column's range).
    let limit: Int32

    init(capacity: Int = 1024, limit: Int = IngestLimits.maxIds) {
        self.limit = Int32(limit)
        var size = 1024
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    var count: Int { ids.count }
    var newCount: Int { ids.count - firstNew }

    /// Adds an existing (external id, internal id) pair from the database.
    mutating func preload(_ key: UnsafeBufferPointer<UInt8>, id: Int32) {
        _ = insert(key, hash: Self.hash(key), id: id)
        nextId = max(nextId, Int(id) + 1)
        firstNewId = Int32(clamping: nextId)
        firstNew = ids.count
    }

    /// The internal id for `key`, assigning the next one if it is new; nil when a new one would pass `limit`.
    @inline(__always)
    mutating func id(for key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let h = Self.hash(key)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let entry = Int(slots[slot])
            if entry < 0 { break }
            if Int(keyLength[entry]) == key.count, equal(entry, key) { return ids[entry] }
            slot = (slot + 1) & mask
        }
        guard nextId <= Int(limit) else { return nil }
        let id = Int32(nextId)
        nextId += 1
        return insert(key, hash: h, id: id)
    }

    /// The new (external id, internal id) pairs, in order of first appearance.
    func forEachNew(_ body: (UnsafeBufferPointer<UInt8>, Int32) throws -> Void) rethrows {
        try arena.withUnsafeBufferPointer { a in
            for entry in firstNew..<ids.count {
                try body(UnsafeBufferPointer(rebasing: a[keyStart[entry]..<(keyStart[entry] + Int(keyLength[entry]))]), ids[entry])
            }
        }
    }

    @inline(__always)
    private func equal(_ entry: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        arena.withUnsafeBufferPointer { a in memcmp(a.start + keyStart[entry], key.start, key.count) == 0 }
    }

    private mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64, id: Int32) -> Int32 {
        if (ids.count + 1) * 2 > slots.count { grow() }
        keyStart.append(arena.count)
        keyLength.append(Int32(key.count))
        arena.append(contentsOf: key)
        ids.append(id)
        place(entry: ids.count - 1, hash: hash)
        return id
    }

    private mutating func place(entry: Int, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(entry)
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        mask = slots.count - 1
        let hashes = arena.withUnsafeBufferPointer { a in
            (0..<ids.count).map { Self.hash(UnsafeBufferPointer(rebasing: a[keyStart[$0]..<(keyStart[$0] + Int(keyLength[$0]))])) }
        }
        for (entry, hash) in hashes.enumerated() { place(entry: entry, hash: hash) }
    }

    /// FNV-1a with a final avalanche (so that the table's low bits depend on every byte).
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = FNV1a.hash64(key)
        h ^= h >> 33; h = h &* 0xff51_afd7_ed55_8ccd; h ^= h >> 33
        return h
    }
}

import Foundation
