import PleatCore
import PleatTensor

/// What training and benchmarks need from an encoder: its parameters, the tied item table the loss
/// scores against, and a forward/backward pair over preallocated output and output-gradient tensors.
public protocol SequenceEncoder: AnyObject {
    var store: ParameterStore { get }
    /// The tied item table (row 0 is padding).
    var items: Embedding { get }
    /// The encoder's output, rows = batch × maxLength.
    var output: Tensor { get }
    /// ∂loss/∂output, filled by the caller before `backward`.
    var outputGradient: Tensor { get }
    /// Encodes `ids` (batch × maxLength, 0 = padding) into `output`. `rng` nil: evaluation.
    func forward(_ ids: [Int32], rng: inout RandomSource?)
    /// Back-propagates `outputGradient` into every parameter's gradient.
    func backward()
}
