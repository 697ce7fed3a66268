import PleatCore
import PleatTensor

/// What training and benchmarks need from an encoder: its parameters, the tied item table the loss
/// scores against, and a forward/backward pair over preallocated output and output-gradient tensors.
public protocol SequenceEncoder: AnyObject {
    var store: ParameterStore { get }
    /// The tied item table (row 0 is padding).
    var items: Embedding { get }
    /// The encoder's output, rows = batch × `length`.
    var output: Tensor { get }
    /// ∂loss/∂output, filled by the caller before `backward`.
    var outputGradient: Tensor { get }
    /// Positions per sequence in the current passes: the encoder's maximum length until `setLength`.
    var length: Int { get }
    /// Sizes the next passes for sequences of `n` positions (1 ≤ n ≤ the maximum length): `ids`,
    /// `output` and every activation become batch × n rows of the buffers allocated for the maximum, so
    /// that a batch of short sequences costs its own length, not the longest one's. Left-aligned
    /// sequences give the same results at any n that holds them.
    func setLength(_ n: Int)
    /// Each input position's behaviour and value bucket for the next passes (`InputFields`); an encoder
    /// built without behaviour types or value buckets ignores them.
    var fields: InputFields { get set }
    /// Encodes `ids` (batch × length, 0 = padding) into `output`. `rng` nil: evaluation.
    func forward(_ ids: [Int32], rng: inout RandomSource?)
    /// Back-propagates `outputGradient` into every parameter's gradient.
    func backward()
}
