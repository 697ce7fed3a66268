import PleatCore
import PleatTensor

/// MBGen's first step (`behaviour.predict_behaviour`, interleaved tokens only): the state at each item
/// token predicts the behaviour of the event after it, a softmax over the behaviour ids (row 0: none),
/// trained beside the item loss. A query that names no behaviour then asks for the one predicted, so that
/// "what will this user do next?" is answered as "how, then what": the likeliest behaviour, then the
/// items done with it.
final class BehaviourPrediction {
    let table: Parameter, bias: Parameter
    private let crossEntropy = SoftmaxCrossEntropy()
    /// The item tokens' states (one row per event position) and ∂loss/∂those states.
    private let states: Tensor, gradient: Tensor
    private var labels: [Int32] = []

    init(_ store: ParameterStore, types: Int, dimension: Int, rows: Int) {
        precondition(types > 0)
        table = store.make("behaviour_head.weight", shape: [types + 1, dimension])
        bias = store.make("behaviour_head.bias", shape: [types + 1], decays: false)
        (states, gradient) = (Tensor([rows, dimension]), Tensor([rows, dimension]))
    }

    /// The mean cross-entropy of each event's next behaviour given its item token's state (rows 2i of
    /// `tokenStates`), over the events whose next behaviour is known; the parameters' gradients are
    /// accumulated and the states' kept for `addGradient`.
    func lossAndGradient(tokenStates: Tensor, events: SequenceBatch) -> Double {
        gatherItemTokens(tokenStates, rows: events.batch * events.length)
        labels.removeAll(keepingCapacity: true)
        for b in 0..<events.batch {
            for i in 0..<events.length {
                let next = events.nextBehaviours[b * events.length + i]
                labels.append(i < Int(events.lengths[b]) && next > 0 ? next : -1)
            }
        }
        return crossEntropy.lossAndGradient(hidden: states, table: table, bias: bias, labels: labels, dHidden: gradient)
    }

    /// Adds the last `lossAndGradient`'s ∂loss/∂state to the item tokens' rows of `statesGradient`.
    func addGradient(into statesGradient: Tensor) {
        precondition(statesGradient.rows == 2 * gradient.rows && statesGradient.columns == gradient.columns)
        let d = gradient.columns
        for r in 0..<gradient.rows {
            let to = statesGradient.pointer + 2 * r * d, from = gradient.pointer + r * d
            for j in 0..<d { to[j] += from[j] }
        }
    }

    /// The likeliest behaviour (1…types; never "none") after event `last[b]` of each row b, from its item
    /// token's state in `tokenStates`.
    func predict(tokenStates: Tensor, length: Int, last: [Int]) -> [Int16] {
        let d = tokenStates.columns, classes = table.shape[0]
        return last.enumerated().map { b, i in
            let state = tokenStates.pointer + (b * 2 * length + 2 * i) * d
            var best = (behaviour: 1, logit: -Float.infinity)
            for k in 1..<classes {
                var logit = bias.value[k]
                for j in 0..<d { logit += state[j] * table.value.pointer[k * d + j] }
                if logit > best.logit { best = (k, logit) }
            }
            return Int16(best.behaviour)
        }
    }

    private func gatherItemTokens(_ tokenStates: Tensor, rows: Int) {
        precondition(tokenStates.rows == 2 * rows)
        states.setRows(rows)
        gradient.setRows(rows)
        let d = states.columns
        for r in 0..<rows { (states.pointer + r * d).update(from: tokenStates.pointer + 2 * r * d, count: d) }
    }
}
