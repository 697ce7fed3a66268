import CBLAS

/// Row-major single-precision matrix products through OpenBLAS: C = α·op(A)·op(B) + β·C.
///
/// `op(A)` is m×k and `op(B)` is k×n. Leading dimensions default to the packed row length.
public enum Gemm {
    public static func multiply(
        _ a: UnsafePointer<Float>, transposeA: Bool = false,
        _ b: UnsafePointer<Float>, transposeB: Bool = false,
        into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0,
        lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda ?? (transposeA ? m : k)),
                    b, Int32(ldb ?? (transposeB ? k : n)),
                    beta, c, Int32(ldc ?? n))
    }

    /// Runs BLAS on one thread: Pleat spreads work over the cores itself (splitting the batch), which
    /// scales better than OpenBLAS threads on the tall, thin matrices of d = 64 models.
    public static func useSingleThread() { openblas_set_num_threads(1) }
}
