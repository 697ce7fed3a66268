/// Rows of a matrix inside a wider one: row r starts at `base + r·stride`.
///
/// Lets attention read the Q, K, V (and HSTU's U) column blocks straight out of one projection output,
/// and head h at column offset h·d, without copying.
public struct StridedRows {
    public let base: UnsafeMutablePointer<Float>
    public let stride: Int

    public init(_ base: UnsafeMutablePointer<Float>, stride: Int) {
        self.base = base
        self.stride = stride
    }

    /// The whole of a tensor viewed as rows × columns.
    public init(_ tensor: Tensor) { self.init(tensor.pointer, stride: tensor.columns) }

    /// The same rows starting `columns` further right.
    public func offset(columns: Int) -> StridedRows { StridedRows(base + columns, stride: stride) }

    /// Rows of sequence `b` (length `n`), head `h` of width `width`.
    @inline(__always)
    func block(sequence b: Int, length n: Int, head h: Int, width: Int) -> UnsafeMutablePointer<Float> {
        base + b * n * stride + h * width
    }
}
