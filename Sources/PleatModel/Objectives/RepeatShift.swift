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
    /// The head's own items of each query it last scored (`RepeatHead.ownItems`).
    private let ownItemRows: ScoreOverrides

    init(parameter: Parameter, scale: Float, ownItems: ScoreOverrides) {
        precondition(parameter.value.count == 1 && scale > 0)
        (self.parameter, self.scale, self.ownItemRows) = (parameter, scale, ownItems)
    }

    /// δ, in units of the gate's logit.
    public var value: Float {
        get { parameter.value[0] }
        set { parameter.value[0] = newValue }
    }

    /// The items whose scores δ moves, per query of the model's last `scores` call: the head's own items
    /// of each query, read from the head so that they have one definition (the distinct items of the
    /// window the encoder reads).
    public var ownItemsOfQueries: QueryOwnItems { QueryOwnItems(rows: ownItemRows) }

    /// Read-only access for the workers that rank a scored batch's rows (nothing writes the head's rows
    /// until the next `scores` call, which waits for them).
    public struct QueryOwnItems: @unchecked Sendable {
        fileprivate let rows: ScoreOverrides

        public subscript(query r: Int) -> ArraySlice<Int32> {
            precondition(r < rows.rows, "query \(r) was not in the last scores call")
            return rows.items[rows.entries(row: r)]
        }
    }
}
