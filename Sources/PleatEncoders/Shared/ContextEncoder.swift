import PleatCore
import PleatTensor

/// An encoder whose sequences may start with context vectors instead of items: the fold tokens of a
/// folded history (model-spec §4.3). The caller writes up to `contextTokens` vectors per sequence into
/// `context` and says how many each sequence has; they see one another, and every later position sees
/// them. After `backward`, `contextGradient` holds ∂loss/∂context.
public protocol ContextEncoder: SequenceEncoder {
    var contextTokens: Int { get }
    var context: Tensor { get }
    var contextGradient: Tensor { get }
    /// Positions per sequence (context tokens included).
    var maxLength: Int { get }
    /// `lengths[b]` positions of row b are real (context tokens included); the first `contextCounts[b]`
    /// of them read `context` (their ids are 0). `timestamps` (length + 1 per row) are used by
    /// encoders with a time bias and ignored by the others.
    func forward(_ ids: [Int32], lengths: [Int32], contextCounts: [Int32]?, timestamps: [Int64]?, rng: inout RandomSource?)
}
