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

extension CausalRowBlocks {
    // The three products of an attention's forward and backward, block by block. Matrices are row-major
    // with leading dimensions; the square matrices (scores, weights) are `length` wide.

    /// C[r0..<r1, 0..<keys] = α·A[r0..<r1]·B[0..<keys]ᵀ: each block's rows against the keys they see
    /// (S = QKᵀ, dP = dO Vᵀ). A and B rows are `depth` long.
    func rowsAgainstKeys(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, depth: Int, alpha: Float = 1,
                         into c: UnsafeMutablePointer<Float>) {
        for r in self {
            Gemm.multiply(a + r.r0 * lda, b, transposeB: true, into: c + r.r0 * length, m: r.r1 - r.r0, n: r.keys, k: depth,
                          alpha: alpha, lda: lda, ldb: ldb, ldc: length)
        }
    }

    /// C[r0..<r1] = α·W[r0..<r1, 0..<keys]·B[0..<keys]: each block's rows weigh the keys they see
    /// (O = A V, dQ = dS K). B and C rows are `width` long.
    func rowsWeighKeys(_ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, width: Int, alpha: Float = 1,
                       into c: UnsafeMutablePointer<Float>, ldc: Int) {
        for r in self {
            Gemm.multiply(w + r.r0 * length, b, into: c + r.r0 * ldc, m: r.r1 - r.r0, n: width, k: r.keys,
                          alpha: alpha, lda: length, ldb: ldb, ldc: ldc)
        }
    }

    /// C[r0..<r1] = α·W[firstRow..<length, r0..<r1]ᵀ·B[firstRow..<length]: each block of keys gathers
    /// from the rows that see it (dV = Aᵀ dO, dK = dSᵀ Q). B and C rows are `width` long.
    func keysGatherRows(_ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, width: Int, alpha: Float = 1,
                        into c: UnsafeMutablePointer<Float>, ldc: Int) {
        for r in self {
            Gemm.multiply(w + r.firstRow * length + r.r0, transposeA: true, b + r.firstRow * ldb, into: c + r.r0 * ldc,
                          m: r.r1 - r.r0, n: width, k: length - r.firstRow, alpha: alpha, lda: length, ldb: ldb, ldc: ldc)
        }
    }
}
