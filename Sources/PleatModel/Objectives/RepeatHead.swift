import Foundation
import PleatCore
import PleatTensor

/// The repeat head (`sasrec.repeat`, `hstu.repeat`): at each position t, every item the user has already interacted
/// with in the window gets a boost added to its score,
///
///     o(j) = κ·(g + c·A(j)),   g = ⟨w, h_t⟩ + b,   A(j) = log Σ_{s ≤ t, i_s = j} (t − s + 1)^(−decay),
///
/// a gate g, read from the encoder's state, on how likely the user is to come back to an own item now,
/// and the ACT-R base-level activation A of each past item (recent and frequent items higher), weighted
/// by c, as in PISA (Tran et al., RecSys 2024). In probabilities, p(j) ∝ exp(z_j + o(j)): the
/// catalogue's distribution and the user's own items, mixed by the gate. The parameters start at 0 (no
/// boost) and are trained by the model's own loss through the offsets' gradients (`LogitOffsets`):
///
///     ∂g = κ·Σ_j ∂o(j),   ∂c = κ·Σ_j ∂o(j)·A(j),   ∂w = Σ_t ∂g·h_t,   ∂b = Σ_t ∂g,   ∂h_t += ∂g·w.
///
/// The fixed scale κ lets the boost reach the size of the catalogue's logits in few steps: Adam moves
/// each scalar by about the learning rate per step, and a small log has few steps (the Taobao head: 7
/// a epoch, so b and c could not pass 0.6 in 80 epochs, a boost too weak to order the user's own items).
///
/// Ages count events, not seconds, so logs without times work alike. Only items in the window the
/// encoder reads are candidates; with folding, the fold tokens' positions hold no item and add none.
/// Under `seen = exclude` the boosted items are never served, so the head only changes what is learned;
/// it is meant for `seen = include`.
final class RepeatHead {
    /// ACT-R's decay of an event's contribution with its age.
    static let decay = 0.5
    /// κ: the boost per unit of the head's parameters.
    static let scale: Float = 10

    let gate: Parameter, gateBias: Parameter, activationWeight: Parameter
    /// One row per position the head scores: the window's distinct items, their offsets and gradients.
    let offsets = LogitOffsets()
    /// A(j) of each entry of `offsets`.
    private var activations: [Float] = []
    /// (age)^(−decay) for ages 1…maxLength, index = age.
    private let ageWeights: [Double]
    /// Per item, the activation sum of the row being built (0 elsewhere), and the items it touched.
    private var sums: [Double]
    private var touched: [Int32] = []

    init(store: ParameterStore, dimension: Int, items: Int, maxLength: Int) {
        gate = store.make("repeat.gate.weight", shape: [dimension])
        gateBias = store.make("repeat.gate.bias", shape: [1], decays: false)
        activationWeight = store.make("repeat.activation.weight", shape: [1], decays: false)
        ageWeights = (0...maxLength).map { $0 == 0 ? 0 : pow(Double($0), -Self.decay) }
        sums = [Double](repeating: 0, count: items + 1)
    }

    // MARK: Candidates

    /// A row for every labelled position of `batch`, in the order `SequenceBatch.labelledLoss` gathers them.
    func prepareTraining(_ batch: SequenceBatch) {
        start()
        let n = batch.length
        for (r, label) in batch.labels.enumerated() where label >= 0 {
            appendRow(batch.ids, row: r / n, stride: n, through: r % n)
        }
    }

    /// A row for each of the first `count` placed queries, at its last position.
    func prepareQueries(_ batch: SequenceBatch, count: Int) {
        start()
        for b in 0..<count { appendRow(batch.ids, row: b, stride: batch.length, through: Int(batch.lengths[b]) - 1) }
    }

    private func start() {
        offsets.clear()
        activations.removeAll(keepingCapacity: true)
    }

    /// The distinct items of positions 0…t of row b and their activations (none when t < 0).
    private func appendRow(_ ids: [Int32], row b: Int, stride n: Int, through t: Int) {
        touched.removeAll(keepingCapacity: true)
        if t >= 0 {
            for s in 0...t {
                let id = Int(ids[b * n + s])
                guard id > 0 else { continue }
                if sums[id] == 0 { touched.append(Int32(id)) }
                sums[id] += ageWeights[t - s + 1]
            }
        }
        touched.sort()
        offsets.appendRow(touched)
        for id in touched {
            activations.append(Float(log(sums[Int(id)])))
            sums[Int(id)] = 0
        }
    }

    // MARK: Forward and backward

    /// o(j) = κ·(⟨w, h_r⟩ + b + c·A(j)) for every entry of row r, h_r the r-th row of `hidden`.
    func forward(_ hidden: Tensor) {
        precondition(hidden.rows >= offsets.rows && hidden.columns == gate.shape[0])
        let d = hidden.columns, b = gateBias.value[0], c = activationWeight.value[0], k = Self.scale
        for r in 0..<offsets.rows {
            let g = VectorMath.dot(hidden.pointer + r * d, gate.value.pointer, count: d) + b
            for e in offsets.entries(row: r) { offsets.values[e] = k * (g + c * activations[e]) }
        }
    }

    /// From the offsets' gradients (set by the loss): accumulates w's, b's and c's gradients and adds
    /// ∂g·w to each row of `dHidden`.
    func backward(_ hidden: Tensor, _ dHidden: Tensor) {
        let d = hidden.columns
        var dBias: Float = 0, dActivation: Float = 0
        for r in 0..<offsets.rows {
            var dGate: Float = 0
            for e in offsets.entries(row: r) {
                dGate += Self.scale * offsets.gradients[e]
                dActivation += Self.scale * offsets.gradients[e] * activations[e]
            }
            guard dGate != 0 else { continue }
            dBias += dGate
            VectorMath.addScaled(hidden.pointer + r * d, by: dGate, into: gate.grad.pointer, count: d)
            VectorMath.addScaled(gate.value.pointer, by: dGate, into: dHidden.pointer + r * d, count: d)
        }
        gateBias.grad[0] += dBias
        activationWeight.grad[0] += dActivation
    }
}
