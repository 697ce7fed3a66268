import PleatCore
import PleatTensor

/// An encoder that can compute only what scoring reads: each sequence's output at its last real
/// position. Every layer below the last still runs over all positions (their outputs are the last
/// layer's keys and values); the last layer runs its queries, and everything after them, for one row
/// per sequence. Same values as `forward` (evaluation) at those rows, up to summation order.
public protocol LastPositionEncoder: ContextEncoder {
    /// Encodes left-aligned `ids` (batch × `length`, `lengths[b]` real positions each, no context
    /// tokens) into row b of `users` (batch × d); a sequence of length 0 gets a row of zeros before the
    /// output normalisation. `timestamps` as in `forward`.
    func encodeLastPositions(_ ids: [Int32], lengths: [Int32], timestamps: [Int64]?, into users: Tensor)
}
