/// A causal attention square cut into up to 4 blocks of rows, each multiplied only against the keys up
/// to its last row (at 200 positions, 5/8 of the square), for both attentions' products. Block c holds
/// rows [r0, r1) whose queries see keys [0, keys); read as a block of keys [r0, r1), only rows from
/// `firstRow` on see it. The first `prefix` positions (context tokens) see one another. Bidirectional
/// attention is one block over every key. Computed on access: it is built per sequence and head on the
/// hot path, where an array would be an allocation each time.
struct CausalRowBlocks: RandomAccessCollection {
    struct Block { let r0: Int, r1: Int, keys: Int, firstRow: Int }

    let length: Int, prefix: Int, count: Int, causal: Bool

    /// Blocks of at least `minimumRows` rows (tests make it small to reach the blocked path at short lengths).
    init(length: Int, prefix: Int, causal: Bool, minimumRows: Int) {
        (self.length, self.prefix, self.causal) = (length, prefix, causal)
        count = causal ? Swift.max(1, Swift.min(4, length / Swift.max(1, minimumRows))) : 1
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(c: Int) -> Block {
        let r0 = length * c / count, r1 = length * (c + 1) / count
        return causal ? Block(r0: r0, r1: r1, keys: Swift.min(length, Swift.max(r1, prefix)), firstRow: r0 < prefix ? 0 : r0)
                      : Block(r0: r0, r1: r1, keys: length, firstRow: 0)
    }
}
