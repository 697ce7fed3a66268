import PleatCore
import PleatTensor

/// One softmax-attention block of a SASRec or BERT4Rec stack, whichever `TransformerConfig.Block` it is.
protocol TransformerBlock: AnyObject {
    /// Positions per sequence in the next passes (at most the config's maximum length).
    func setLength(_ n: Int)
    /// Replaces x by the block's output. `keyValid` (batch × length, 1 = real event) hides padding keys;
    /// causal blocks over left-aligned sequences never see padding and pass nil. `prefixes[b]`: leading
    /// context tokens of sequence b (see SoftmaxAttention). `rng` nil: evaluation.
    func forward(_ x: Tensor, keyValid: UnsafePointer<Float>?, prefixes: UnsafePointer<Int32>?, rng: inout RandomSource?)
    /// dx holds ∂L/∂output on entry and ∂L/∂input on return.
    func backward(_ dx: Tensor)
    /// `forward` (evaluation, causal, no context tokens) for each sequence's last real position only,
    /// into row b of `y` (batch × d): keys and values come from every position of `x`, the rest of the
    /// block runs for one row per sequence. Leaves the block at length 1 (the next pass sets its own).
    func forwardLast(_ x: Tensor, lengths: UnsafeBufferPointer<Int32>, into y: Tensor)
}

/// Row b of `y` ← x's row at sequence b's last real position (x: batch × n rows; a sequence of length
/// 0 reads its first row): the state that scores the next item.
public func gatherLastRows(_ x: Tensor, batch: Int, lengths: UnsafeBufferPointer<Int32>, into y: Tensor) {
    let d = x.columns, n = x.rows / batch
    for b in 0..<batch { (y.pointer + b * d).update(from: x.pointer + (b * n + max(Int(lengths[b]) - 1, 0)) * d, count: d) }
}

/// The shape both softmax blocks share: Q, K, V from one product over the block's input (or its
/// LayerNorm: `attentionInput`), the attention, then a row-wise rest (`afterAttention`: output
/// projection, residuals, norms, FFN). `forward` and `forwardLast` are written once for both.
protocol SoftmaxBlock: TransformerBlock {
    var qkv: Linear { get }
    var qkvOut: Tensor { get }
    var out: Linear { get }
    var attention: SoftmaxAttention { get }
    var cache: SoftmaxAttention.Cache { get }
    /// The block's input, kept for the residual and the backward pass.
    var input: Tensor { get }
    /// The attention's output, one row per position.
    var attended: Tensor { get }
    /// The last positions' attention outputs (`forwardLast`), one row per sequence.
    var lastAttended: Tensor { get }
    var batch: Int { get }
    /// What the Q/K/V product reads: x itself (post-LN) or LN₁ x (pre-LN, LiGR).
    func attentionInput(_ x: Tensor) -> Tensor
    /// Everything after the attention, row by row: reads `input` and `attended`, writes x.
    func afterAttention(_ x: Tensor, rng: inout RandomSource?)
}

extension SoftmaxBlock {
    func forward(_ x: Tensor, keyValid: UnsafePointer<Float>?, prefixes: UnsafePointer<Int32>?, rng: inout RandomSource?) {
        input.copy(from: x)
        qkv.forward(attentionInput(x), into: qkvOut)
        let all = StridedRows(qkvOut), d = out.inputs
        attention.forward(q: all, k: all.offset(columns: d), v: all.offset(columns: 2 * d), keyValid: keyValid,
                          prefixes: prefixes, out: StridedRows(attended), cache: cache, rng: &rng)
        afterAttention(x, rng: &rng)
    }

    func forwardLast(_ x: Tensor, lengths: UnsafeBufferPointer<Int32>, into y: Tensor) {
        qkv.forward(attentionInput(x), into: qkvOut)
        let all = StridedRows(qkvOut), d = out.inputs
        attention.forwardLast(q: all, k: all.offset(columns: d), v: all.offset(columns: 2 * d), batch: batch, length: x.rows / batch,
                              lengths: lengths, out: StridedRows(lastAttended))
        gatherLastRows(x, batch: batch, lengths: lengths, into: y)
        setLength(1)
        input.copy(from: y)
        attended.copy(from: lastAttended)
        var noDropout: RandomSource? = nil
        afterAttention(y, rng: &noDropout)
    }
}

extension TransformerConfig {
    /// The config's stack of blocks, named `namePrefix` + "blocks.i". `paddingLogCounts` (batch, filled by
    /// the encoder before each pass) is read by blocks that attend to padding (`attendPadding`).
    func makeBlocks(_ store: ParameterStore, namePrefix: String, batch: Int, causal: Bool,
                    paddingLogCounts: Tensor? = nil) -> [any TransformerBlock] {
        (0..<blocks).map { i -> any TransformerBlock in
            let name = "\(namePrefix)blocks.\(i)"
            switch block {
            case .postNorm: return PostNormBlock(store, name, config: self, batch: batch, causal: causal)
            case .preNorm, .ligr: return PreNormBlock(store, name, config: self, batch: batch, causal: causal)
            case .sasrec: return SASRecBlock(store, name, config: self, batch: batch, causal: causal, paddingLogCounts: paddingLogCounts)
            }
        }
    }

    /// Pre-LN and original-SASRec stacks end with a LayerNorm (their residual stream is never
    /// normalised); post-LN ones do not.
    func makeFinalNorm(_ store: ParameterStore, namePrefix: String) -> LayerNorm? {
        block == .postNorm ? nil : LayerNorm(store, namePrefix + "ln_final", features: dimension, epsilon: layerNormEpsilon)
    }
}
