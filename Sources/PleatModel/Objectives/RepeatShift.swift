import PleatTensor

/// How far the repeat head moves the user's own items against the catalogue when it ranks: δ, added to
/// the gate's logit at scoring time only (o(j) = τ·(a + δ + r_j − lse_S(r) + lse_{∉S}(z/τ))).
///
/// The gate is fitted on training positions, where the catalogue's softmax is sharper than on the users
/// it is asked about later; as training goes on, new items then crowd the own ones out of held-out lists
/// (Yelp, seed 3: validation NDCG@10 0.0417 at epoch 12, 0.0386 at epoch 80, with the catalogue part
/// still improving). Training never moves δ; after each epoch the trainer sets it to the candidate
/// (`steps` around its value) that ranks validation best, so that the gate's prior is the one held-out
/// users need and the epoch is chosen on what is served. Stored with the weights (`repeat.gate.shift`).
public final class RepeatShift {
    /// Changes of δ tried after each epoch; 0 among them, so δ only moves when validation gains.
    public static let steps: [Float] = [-2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2]

    let parameter: Parameter
    /// Score units per unit of δ: the temperature τ of the catalogue's logits.
    public let scale: Float
    /// The history's last `window` events hold the own items (as the head reads its window).
    public let window: Int

    init(parameter: Parameter, scale: Float, window: Int) {
        precondition(parameter.value.count == 1 && scale > 0 && window > 0)
        (self.parameter, self.scale, self.window) = (parameter, scale, window)
    }

    /// δ, in units of the gate's logit.
    public var value: Float {
        get { parameter.value[0] }
        set { parameter.value[0] = newValue }
    }

    /// The distinct items of a history's window: those whose scores δ moves.
    public func ownItems(_ history: some Collection<Int32>) -> [Int32] { Self.ownItems(history, window: window) }

    static func ownItems(_ history: some Collection<Int32>, window: Int) -> [Int32] {
        Array(Set(history.suffix(window).filter { $0 > 0 }))
    }
}
