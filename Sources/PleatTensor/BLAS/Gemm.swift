/// Row-major single-precision matrix products through the BLAS (`BLASLibrary`): C = α·op(A)·op(B) + β·C.
///
/// `op(A)` is m×k and `op(B)` is k×n. Leading dimensions default to the packed row length.
public enum Gemm {
    /// CBLAS's enum values (cblas.h): Pleat calls the library through a function pointer, not its header.
    private static let rowMajor: Int32 = 101, noTranspose: Int32 = 111, transpose: Int32 = 112
    private static let sgemm = BLASLibrary.shared.sgemm

    public static func multiply(
        _ a: UnsafePointer<Float>, transposeA: Bool = false,
        _ b: UnsafePointer<Float>, transposeB: Bool = false,
        into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0,
        lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        guard m > 0, n > 0 else { return }
        sgemm(rowMajor, transposeA ? transpose : noTranspose, transposeB ? transpose : noTranspose,
              Int32(m), Int32(n), Int32(k), alpha,
              a, Int32(lda ?? (transposeA ? m : k)),
              b, Int32(ldb ?? (transposeB ? k : n)),
              beta, c, Int32(ldc ?? n))
    }
}
