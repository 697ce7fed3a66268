import Foundation
import PleatCore
import PleatTensor

/// The repeat head (`sasrec.repeat`, `hstu.repeat`): at each position t, every item the user has already
/// interacted with in the window is scored by the head instead of by its dot product with the state,
///
///     o(j) = κ·(g + ⟨c, f(j)⟩),   g = ⟨w, h_t⟩ + b,
///
/// a gate g, read from the encoder's state, on how likely the user is to come back to an own item now,
/// and features f(j) of the item's place in the user's history, weighted by c:
/// - A(j) = log Σ_{s ≤ t, i_s = j} (t − s + 1)^(−decay), the ACT-R base-level activation (recent and
///   frequent items higher), as in PISA (Tran et al., RecSys 2024);
/// - −log(1 + r(j)), r(j) the item's place among the user's distinct items by their last event (0: the
///   newest), what the `recent` baseline ranks by;
/// - log n(j), n(j) its events in the window, what `frequent` ranks by.
/// In probabilities, p(j) ∝ exp(z_j) for a new item and exp(o(j)) for an own one: a distribution over
/// the catalogue and one over the user's own items, mixed by the gate, as RepeatNet's explore and
/// repeat modes. Own items leave the dot product so that their order comes from their place in the
/// history, not from embeddings that may never have been trained (an item touched after the last
/// training event): on the Taobao head, validation NDCG@10 0.079 with the boost added to the dot
/// product, 0.088 in its place (test 0.046 and 0.049; README, "Repeat-heavy logs"). The parameters
/// start at 0 and are trained by the model's own loss through the scores' gradients (`LogitOffsets`):
///
///     ∂g = κ·Σ_j ∂o(j),   ∂c = κ·Σ_j ∂o(j)·f(j),   ∂w = Σ_t ∂g·h_t,   ∂b = Σ_t ∂g,   ∂h_t += ∂g·w.
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
    /// Features per candidate: activation, recency place, count.
    static let features = 3

    let gate: Parameter, gateBias: Parameter, featureWeights: Parameter
    /// One row per position the head scores: the window's distinct items, their scores and gradients.
    let offsets = LogitOffsets(replacesScores: true)
    /// f(j) of each entry of `offsets`, `features` per entry.
    private var featureValues: [Float] = []
    /// (age)^(−decay) for ages 1…maxLength, index = age.
    private let ageWeights: [Double]
    /// Per item, the activation sum, last position and count of the row being built (0 elsewhere), and
    /// the items it touched.
    private var sums: [Double], lastSeen: [Int32], counts: [Int32]
    private var touched: [Int32] = [], byRecency: [Int32] = [], recencyPlace: [Int32]

    init(store: ParameterStore, dimension: Int, items: Int, maxLength: Int) {
        gate = store.make("repeat.gate.weight", shape: [dimension])
        gateBias = store.make("repeat.gate.bias", shape: [1], decays: false)
        featureWeights = store.make("repeat.features.weight", shape: [Self.features], decays: false)
        ageWeights = (0...maxLength).map { $0 == 0 ? 0 : pow(Double($0), -Self.decay) }
        sums = [Double](repeating: 0, count: items + 1)
        (lastSeen, counts, recencyPlace) = ([Int32](repeating: 0, count: items + 1), [Int32](repeating: 0, count: items + 1),
                                            [Int32](repeating: 0, count: items + 1))
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
        featureValues.removeAll(keepingCapacity: true)
    }

    /// The distinct items of positions 0…t of row b and their features (none when t < 0).
    private func appendRow(_ ids: [Int32], row b: Int, stride n: Int, through t: Int) {
        touched.removeAll(keepingCapacity: true)
        if t >= 0 {
            for s in 0...t {
                let id = Int(ids[b * n + s])
                guard id > 0 else { continue }
                if counts[id] == 0 { touched.append(Int32(id)) }
                sums[id] += ageWeights[t - s + 1]
                counts[id] += 1
                lastSeen[id] = Int32(s)
            }
        }
        byRecency.removeAll(keepingCapacity: true)
        byRecency.append(contentsOf: touched)
        byRecency.sort { lastSeen[Int($0)] > lastSeen[Int($1)] }
        for (place, id) in byRecency.enumerated() { recencyPlace[Int(id)] = Int32(place) }
        touched.sort()
        offsets.appendRow(touched)
        for id in touched.map(Int.init) {
            featureValues.append(Float(log(sums[id])))
            featureValues.append(-Float(log(1 + Double(recencyPlace[id]))))
            featureValues.append(Float(log(Double(counts[id]))))
            (sums[id], counts[id], lastSeen[id], recencyPlace[id]) = (0, 0, 0, 0)
        }
    }

    // MARK: Forward and backward

    /// o(j) = κ·(⟨w, h_r⟩ + b + ⟨c, f(j)⟩) for every entry of row r, h_r the r-th row of `hidden`.
    func forward(_ hidden: Tensor) {
        precondition(hidden.rows >= offsets.rows && hidden.columns == gate.shape[0])
        let d = hidden.columns, b = gateBias.value[0], c = featureWeights.value, k = Self.scale, f = Self.features
        for r in 0..<offsets.rows {
            let g = VectorMath.dot(hidden.pointer + r * d, gate.value.pointer, count: d) + b
            for e in offsets.entries(row: r) {
                var weighted: Float = 0
                for i in 0..<f { weighted += c[i] * featureValues[e * f + i] }
                offsets.values[e] = k * (g + weighted)
            }
        }
    }

    /// From the offsets' gradients (set by the loss): accumulates w's, b's and c's gradients and adds
    /// ∂g·w to each row of `dHidden`.
    func backward(_ hidden: Tensor, _ dHidden: Tensor) {
        let d = hidden.columns
        let f = Self.features
        var dBias: Float = 0, dFeatures = [Float](repeating: 0, count: f)
        for r in 0..<offsets.rows {
            var dGate: Float = 0
            for e in offsets.entries(row: r) {
                let dOffset = Self.scale * offsets.gradients[e]
                dGate += dOffset
                for i in 0..<f { dFeatures[i] += dOffset * featureValues[e * f + i] }
            }
            guard dGate != 0 else { continue }
            dBias += dGate
            VectorMath.addScaled(hidden.pointer + r * d, by: dGate, into: gate.grad.pointer, count: d)
            VectorMath.addScaled(gate.value.pointer, by: dGate, into: dHidden.pointer + r * d, count: d)
        }
        gateBias.grad[0] += dBias
        for i in 0..<f { featureWeights.grad[i] += dFeatures[i] }
    }
}
