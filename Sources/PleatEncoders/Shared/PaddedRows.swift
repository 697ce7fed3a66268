/// The encoders' batch layout: row b of a batch holds one sequence's ids from position 0, then
/// padding (id 0) up to the batch's length.
enum PaddedRows {
    /// Real positions of row `b`: `lengths[b]` when the caller knows them, else the positions before the
    /// row's first padding id (item ids start at 1, so 0 never occurs inside a sequence).
    static func realLength(ofRow b: Int, width n: Int, ids: [Int32], lengths: [Int32]?) -> Int {
        if let lengths { return Int(lengths[b]) }
        let row = b * n
        return ids[row..<(row + n)].firstIndex(of: 0).map { $0 - row } ?? n
    }
}
