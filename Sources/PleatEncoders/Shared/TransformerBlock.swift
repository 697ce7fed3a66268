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
}

extension TransformerConfig {
    /// The config's stack of blocks, named `namePrefix` + "blocks.i".
    func makeBlocks(_ store: ParameterStore, namePrefix: String, batch: Int, causal: Bool) -> [any TransformerBlock] {
        (0..<blocks).map { i -> any TransformerBlock in
            let name = "\(namePrefix)blocks.\(i)"
            switch block {
            case .postNorm: return PostNormBlock(store, name, config: self, batch: batch, causal: causal)
            case .preNorm, .ligr: return PreNormBlock(store, name, config: self, batch: batch, causal: causal)
            }
        }
    }

    /// Pre-LN stacks end with a LayerNorm (their residual stream is never normalised); post-LN ones do not.
    func makeFinalNorm(_ store: ParameterStore, namePrefix: String) -> LayerNorm? {
        block == .postNorm ? nil : LayerNorm(store, namePrefix + "ln_final", features: dimension, epsilon: layerNormEpsilon)
    }
}
