import Foundation
import PleatCore
import PleatTensor

/// The repeat head (`sasrec.repeat`, `hstu.repeat`), RepeatNet's repeat and explore modes: the next item
/// is one of the user's own items (those in the window) with probability g, then drawn from a
/// distribution over them, or a new one with probability 1 − g, then drawn from the model's usual
/// softmax over the rest of the catalogue:
///
///     p(j) = g·softmax_S(r)_j  for j ∈ S (the user's own items),   p(j) = (1 − g)·softmax_{∉S}(z/τ)_j  otherwise,
///     g = σ(a),  a = κ·(⟨w, h_t⟩ + ⟨u, q_t⟩ + b),   r_j = κ·⟨c, f(j)⟩.
///
/// The gate reads the encoder's state and two facts of the history q: the share of the window's events
/// that came back to an earlier item, and whether the newest one did. The own items are ordered by
/// features of their place in the history, weighted by c:
/// - A(j) = log Σ_{s ≤ t, i_s = j} (t − s + 1)^(−decay), the ACT-R base-level activation (recent and
///   frequent items higher), as in PISA (Tran et al., RecSys 2024);
/// - −log(1 + r(j)), r(j) the item's place among the user's distinct items by their last event (0: the
///   newest), what the `recent` baseline ranks by;
/// - log n(j), n(j) its events in the window, what `frequent` ranks by;
/// - in a model that reads behaviours, log(1 + n_k(j)) for each behaviour k, n_k(j) the item's events of
///   that behaviour in the window: an item put in the cart is the one likely bought, not one glanced at.
/// Not by embeddings: an item touched after the last training event has one that was never trained.
///
/// The negative log-likelihood splits into three parts that share nothing but the state h:
///
///     −log p(y) = −log(1 − g) − log softmax_{∉S}(z/τ)_y   (y new),    −log g − log softmax_S(r)_y   (y ∈ S).
///
/// The model's own loss (full or sampled softmax) trains the catalogue part. With `separate` (the
/// default) and `everyPosition` it trains on every position, own items unmasked, as the model without the
/// head, and the sum below is that model's loss plus the head's rather than one likelihood; `separate`
/// also keeps the head's ∂h out of the encoder, so the encoder trains exactly as without the head. With
/// `newTargets` it trains on the positions whose target is new, with the own items masked out
/// (`ScoreOverrides` replacing their scores by `masked`), and the head adds the rest, normalised by the
/// same count of positions, so that the sum is the mixture's mean negative log-likelihood times
/// positions / new-target positions:
///
///     ∂a = σ(a) − [y ∈ S],   ∂r_j = [y ∈ S]·(softmax_S(r)_j − [j = y]),
///     ∂w = κ·Σ_t ∂a·h_t,   ∂u = κ·Σ_t ∂a·q_t,   ∂b = κ·Σ_t ∂a,   ∂c = κ·Σ ∂r_j·f(j),   ∂h_t += κ·∂a·w.
///
/// To rank, the own items' scores are put on the catalogue's scale (τ times the log-probability, shifted
/// by τ·log Σ_{∉S} exp(z/τ)): o(j) = τ·(a + r_j − lse_S(r) + lse_{∉S}(z/τ)). This costs a second pass over
/// the catalogue for its normaliser. A catalogue part trained by sampled softmax against K of N items
/// (no logQ) is, strictly, a softmax with normaliser (K/N)·Σ exp(z/τ); mixed that way its overconfidence
/// on held-out users lets new items crowd out the own ones (validation NDCG@10, seed 1: Taobao head 0.085
/// at epoch 1 falling to 0.04 by epoch 40, against 0.085 held to epoch 80 with the full normaliser; Yelp
/// 0.020 against 0.036 after epoch 1), so the full normaliser is kept. The parameters start at 0 (g = ½, own items alike); the fixed
/// scale κ lets them reach useful sizes in few steps (Adam moves each by about the learning rate a step,
/// and the Taobao head's log has 7 steps an epoch).
///
/// Ranking adds δ to the gate's logit, a shift validation chooses and training never moves (`RepeatShift`).
///
/// Ages count events, not seconds, so logs without times work alike. With folding, the fold tokens'
/// positions hold no item and add none. Under `seen = exclude` the own items are never served and the
/// ranking is the catalogue part's.
final class RepeatHead {
    /// ACT-R's decay of an event's contribution with its age.
    static let decay = 0.5
    /// κ: the logit per unit of the head's parameters.
    static let scale: Float = 10
    /// Features per own item: activation, recency place, count; then one per behaviour.
    static let placeFeatures = 3
    let features: Int
    /// Behaviour ids 1…this have a count feature (the model's `behaviour.types`; 0: none).
    let behaviourTypes: Int
    /// History facts per position the gate reads: the repeat share of the window, the newest event a repeat.
    static let historyFeatures = 2
    /// The score that takes an own item out of the catalogue's softmax in training (finite, so that a
    /// temperature or a shift leaves it far below every real logit without producing NaNs).
    static let masked: Float = -1e30

    let gate: Parameter, gateHistory: Parameter, gateBias: Parameter, featureWeights: Parameter
    /// δ of `RepeatShift`: set by validation, never trained.
    let gateShift: Parameter
    /// One row per position the head scores: the window's distinct items (S), and their scores in the
    /// catalogue's losses and rankings (masked in training, o(j) when ranking).
    let ownItems = ScoreOverrides()
    /// Which positions train the catalogue part.
    let catalogue: RepeatCatalogue
    /// f(j) of each entry of `ownItems`, `features` per entry; q of each row, `historyFeatures` per row.
    private var featureValues: [Float] = [], historyValues: [Float] = []
    /// a of each row, r_j of each entry.
    private var gateLogits: [Float] = [], ownLogits: [Float] = []
    /// (age)^(−decay) for ages 1…maxLength, index = age.
    private let ageWeights: [Double]
    /// Per item, the activation sum, last position and count of the row being built (0 elsewhere), and
    /// the items it touched.
    private var sums: [Double], lastSeen: [Int32], counts: [Int32]
    /// Per item and behaviour (item · behaviourTypes + behaviour − 1), its events of that behaviour in the row.
    private var behaviourCounts: [Int32]
    private var touched: [Int32] = [], byRecency: [Int32] = [], recencyPlace: [Int32]
    /// `ItemScoring.logSumExp`'s blocks.
    private var scratch = Tensor([1])

    init(store: ParameterStore, dimension: Int, items: Int, maxLength: Int, catalogue: RepeatCatalogue, behaviourTypes: Int = 0) {
        self.catalogue = catalogue
        self.behaviourTypes = behaviourTypes
        features = Self.placeFeatures + behaviourTypes
        behaviourCounts = [Int32](repeating: 0, count: (items + 1) * behaviourTypes)
        gate = store.make("repeat.gate.weight", shape: [dimension])
        gateHistory = store.make("repeat.gate.history", shape: [Self.historyFeatures], decays: false)
        gateBias = store.make("repeat.gate.bias", shape: [1], decays: false)
        featureWeights = store.make("repeat.features.weight", shape: [features], decays: false)
        gateShift = store.make("repeat.gate.shift", shape: [1], decays: false)
        ageWeights = (0...maxLength).map { $0 == 0 ? 0 : pow(Double($0), -Self.decay) }
        sums = [Double](repeating: 0, count: items + 1)
        (lastSeen, counts, recencyPlace) = ([Int32](repeating: 0, count: items + 1), [Int32](repeating: 0, count: items + 1),
                                            [Int32](repeating: 0, count: items + 1))
    }

    // MARK: Own items

    /// A row for every labelled position of `batch`, in the order `SequenceBatch.labelledLoss` gathers them.
    func prepareTraining(_ batch: SequenceBatch) {
        start()
        let n = batch.length
        for (r, label) in batch.labels.enumerated() where label >= 0 {
            appendRow(batch, row: r / n, through: r % n)
        }
    }

    /// A row for each of the first `count` placed queries, at its last position.
    func prepareQueries(_ batch: SequenceBatch, count: Int) {
        start()
        for b in 0..<count { appendRow(batch, row: b, through: Int(batch.lengths[b]) - 1) }
    }

    private func start() {
        ownItems.clear()
        featureValues.removeAll(keepingCapacity: true)
        historyValues.removeAll(keepingCapacity: true)
    }

    /// The distinct items of positions 0…t of row b, their features and the row's history facts
    /// (none when t < 0).
    private func appendRow(_ batch: SequenceBatch, row b: Int, through t: Int) {
        touched.removeAll(keepingCapacity: true)
        let n = batch.length
        var events = 0, repeats = 0, newestRepeats = false
        if t >= 0 {
            for s in 0...t {
                let id = Int(batch.ids[b * n + s])
                guard id > 0 else { continue }
                if behaviourTypes > 0, case let k = Int(batch.behaviours[b * n + s]), k > 0 { behaviourCounts[id * behaviourTypes + k - 1] += 1 }
                if counts[id] == 0 { touched.append(Int32(id)) } else { repeats += 1 }
                newestRepeats = counts[id] > 0
                events += 1
                sums[id] += ageWeights[t - s + 1]
                counts[id] += 1
                lastSeen[id] = Int32(s)
            }
        }
        historyValues.append(events > 0 ? Float(repeats) / Float(events) : 0)
        historyValues.append(newestRepeats ? 1 : 0)
        byRecency.removeAll(keepingCapacity: true)
        byRecency.append(contentsOf: touched)
        byRecency.sort { lastSeen[Int($0)] > lastSeen[Int($1)] }
        for (place, id) in byRecency.enumerated() { recencyPlace[Int(id)] = Int32(place) }
        touched.sort()
        ownItems.appendRow(touched)
        for id in touched.map(Int.init) {
            featureValues.append(Float(log(sums[id])))
            featureValues.append(-Float(log(1 + Double(recencyPlace[id]))))
            featureValues.append(Float(log(Double(counts[id]))))
            for k in 0..<behaviourTypes {
                featureValues.append(Float(log1p(Double(behaviourCounts[id * behaviourTypes + k]))))
                behaviourCounts[id * behaviourTypes + k] = 0
            }
            (sums[id], counts[id], lastSeen[id], recencyPlace[id]) = (0, 0, 0, 0)
        }
    }

    // MARK: Forward

    /// a of every row (h_r the r-th row of `hidden`) and r_j of every entry.
    private func forward(_ hidden: Tensor) {
        precondition(hidden.rows >= ownItems.rows && hidden.columns == gate.shape[0])
        let d = hidden.columns, k = Self.scale, c = featureWeights.value, u = gateHistory.value, b = gateBias.value[0]
        gateLogits.removeAll(keepingCapacity: true)
        ownLogits.removeAll(keepingCapacity: true)
        for r in 0..<ownItems.rows {
            var a = VectorMath.dot(hidden.pointer + r * d, gate.value.pointer, count: d) + b
            for i in 0..<Self.historyFeatures { a += u[i] * historyValues[r * Self.historyFeatures + i] }
            gateLogits.append(k * a)
            for e in ownItems.entries(row: r) {
                var weighted: Float = 0
                for i in 0..<features { weighted += c[i] * featureValues[e * features + i] }
                ownLogits.append(k * weighted)
            }
        }
    }

    /// lse_S(r) of row r (−∞ for an empty row).
    private func ownLogSumExp(row r: Int) -> Float {
        let entries = ownItems.entries(row: r)
        guard let m = entries.map({ ownLogits[$0] }).max() else { return -.infinity }
        return m + Float(log(entries.reduce(0.0) { $0 + Foundation.exp(Double(ownLogits[$1] - m)) }))
    }

    // MARK: Training

    /// Computes the head's logits and returns the catalogue loss's labels: when the catalogue masks own
    /// items, the targets that are new, −1 (no loss) where the target is an own item, with the own items
    /// masked (`catalogueOverrides`); otherwise every target. Call before that loss.
    func catalogueLabels(hidden: Tensor, labels: [Int32]) -> [Int32] {
        precondition(labels.count == ownItems.rows)
        forward(hidden)
        guard catalogue.masksOwnItems else { return labels }
        for e in ownItems.values.indices { ownItems.values[e] = Self.masked }
        return labels.enumerated().map { r, label in isOwn(label, row: r) ? -1 : label }
    }

    /// What the catalogue loss adds to its logits: the own items masked, or nothing.
    var catalogueOverrides: ScoreOverrides? { catalogue.masksOwnItems ? ownItems : nil }

    private func isOwn(_ item: Int32, row r: Int) -> Bool {
        ownItems.items[ownItems.entries(row: r)].contains(item)
    }

    /// The gate's and the own items' negative log-likelihood summed over the rows and divided by
    /// `normalizer` (the catalogue loss's positions); accumulates the head's gradients and adds ∂h to
    /// `dHidden` (which the catalogue loss wrote) unless the head is `separate`. Call after that loss.
    func lossAndGradient(hidden: Tensor, labels: [Int32], normalizer: Int, dHidden: Tensor) -> Double {
        precondition(labels.count == ownItems.rows && gateLogits.count == ownItems.rows)
        let d = hidden.columns, k = Self.scale, scale = 1 / Float(max(normalizer, 1))
        var loss = 0.0, dBias: Float = 0
        var dHistory = [Float](repeating: 0, count: Self.historyFeatures), dFeatures = [Float](repeating: 0, count: features)
        for r in 0..<ownItems.rows where labels[r] >= 0 && !ownItems.entries(row: r).isEmpty {
            let a = gateLogits[r], entries = ownItems.entries(row: r)
            let target = entries.first { ownItems.items[$0] == labels[r] }
            let dGate: Float
            if let target {
                let lse = ownLogSumExp(row: r)
                loss += Double(softplus(-a) + lse - ownLogits[target])
                dGate = -sigmoid(-a) * scale
                for e in entries {
                    let dOwn = k * scale * (Foundation.exp(ownLogits[e] - lse) - (e == target ? 1 : 0))
                    for i in 0..<features { dFeatures[i] += dOwn * featureValues[e * features + i] }
                }
            } else {
                loss += Double(softplus(a))
                dGate = sigmoid(a) * scale
            }
            let dA = k * dGate
            dBias += dA
            for i in 0..<Self.historyFeatures { dHistory[i] += dA * historyValues[r * Self.historyFeatures + i] }
            VectorMath.addScaled(hidden.pointer + r * d, by: dA, into: gate.grad.pointer, count: d)
            if catalogue.headTrainsEncoder { VectorMath.addScaled(gate.value.pointer, by: dA, into: dHidden.pointer + r * d, count: d) }
        }
        gateBias.grad[0] += dBias
        for i in 0..<Self.historyFeatures { gateHistory.grad[i] += dHistory[i] }
        for i in 0..<features { featureWeights.grad[i] += dFeatures[i] }
        return loss * Double(scale)
    }

    private func softplus(_ x: Float) -> Float { x > 0 ? x + log1p(Foundation.exp(-x)) : log1p(Foundation.exp(x)) }
    private func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

    // MARK: Ranking

    /// Gives `scoring` the own items' scores o(j) = τ·(a + δ + r_j − lse_S(r) + lse_{∉S}(z/τ)), τ the
    /// temperature of the catalogue's logits in the model's loss, δ the shift validation chose
    /// (`RepeatShift`); rows of `prepareQueries`.
    func prepareScoring(_ scoring: inout ItemScoring, temperature: Float) {
        precondition(ownItems.rows == scoring.count && scoring.overrides == nil)
        forward(scoring.users)
        let needed = scoring.count * ItemScoring.blockColumns
        if scratch.count < needed { scratch = Tensor([needed]) }
        let own = (0..<ownItems.rows).map { Array(ownItems.items[ownItems.entries(row: $0)]) }
        let catalogue = scoring.logSumExp(scale: 1 / temperature, excluding: own, scratch: scratch)
        for r in 0..<ownItems.rows {
            let lse = ownLogSumExp(row: r)
            // With every item the user's own there is no catalogue part to weigh against.
            let shift = catalogue[r].isFinite ? gateLogits[r] + gateShift.value[0] + Float(catalogue[r]) : 0
            for e in ownItems.entries(row: r) { ownItems.values[e] = temperature * (shift + ownLogits[e] - lse) }
        }
        scoring.overrides = ownItems
    }
}
