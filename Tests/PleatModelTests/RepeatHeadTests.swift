import XCTest
import PleatCore
import PleatMetrics
import PleatTensor
import PleatHistories
import PleatTestSupport
@testable import PleatModel

/// The repeat head (`sasrec.repeat`): every parameter's gradient, the head's and the encoder's through
/// it, against finite differences, under the losses it trains with; and the scores that rank and serve
/// are the mixture's: own items with probability g, ordered by their features, the rest as the catalogue's softmax.
final class RepeatHeadTests: XCTestCase {
    private func spec(_ loss: SASRecSettings.Loss) -> ModelSpec {
        var spec = ModelSpec(kind: .sasrec, maxLength: 6)
        (spec.sasrec.encoder.dimension, spec.sasrec.encoder.heads, spec.sasrec.encoder.blocks, spec.sasrec.encoder.dropout) = (8, 1, 1, 0)
        (spec.sasrec.loss, spec.sasrec.negatives, spec.sasrec.repeat) = (loss, 6, true)
        spec.sasrec.repeatCatalogue = .newTargets  // the head's gradient reaches the encoder: checked through it
        return spec
    }

    /// HSTU with its shared negatives (drawn with repeats from 12 items, so that several columns can
    /// hold one of the user's items) and the temperature the overridden scores are divided by.
    private var hstuSpec: ModelSpec {
        var spec = ModelSpec(kind: .hstu, maxLength: 6)
        (spec.hstu.encoder.dimension, spec.hstu.encoder.heads, spec.hstu.encoder.blocks, spec.hstu.encoder.dropout) = (8, 1, 1, 0)
        spec.hstu.encoder.attention.dropout = 0
        (spec.hstu.negatives, spec.hstu.temperature, spec.hstu.repeat) = (16, 0.5, true)
        spec.hstu.repeatCatalogue = .newTargets
        return spec
    }

    /// Users who come back to items, and one longer than the window.
    /// Each event has a behaviour (1 or 2, by position), read by the models that embed behaviours.
    private let sequences: [EventSequence] = [[1, 2, 1, 3, 2, 1, 4], [5, 5, 6, 5, 7], [8, 9, 10, 8, 11, 9, 8, 12, 9]].map { items in
        EventSequence(items: items[...], times: items.indices.map { Int64(100 * $0) }[...],
                      behaviours: items.indices.map { Int16(1 + $0 % 3 / 2) }[...])
    }

    /// Tolerance: `GradientCheck`'s (5·10⁻⁴ relative; its comment says why it holds for float32 on any BLAS).
    func testGradientsMatchFiniteDifferences() {
        // Folded: the events before the window of 6 go to folds keyed by item (odd, even); the head's own
        // items are the window's.
        var folded = spec(.ce)
        (folded.fold.key, folded.fold.groups, folded.fold.groupLength) = (.category, 2, 3)
        let keys = FoldKeys.perItem((0...12).map { Int32($0 == 0 ? 0 : 1 + $0 % 2) }, count: 2)
        // The catalogue part trained on every position (own items unmasked, repeat targets labelled).
        var everyPosition = spec(.sampledSoftmax), hstuEveryPosition = hstuSpec
        everyPosition.sasrec.repeatCatalogue = .everyPosition
        hstuEveryPosition.hstu.repeatCatalogue = .everyPosition
        var separate = spec(.ce)
        separate.sasrec.repeatCatalogue = .separate
        // Reading behaviours: their embedding at the input, and one own-item feature per behaviour.
        var behaviours = spec(.ce)
        behaviours.behaviour = BehaviourSettings(input: .embedding, types: 2)
        for (name, spec, foldKeys) in [("sasrec ce", spec(.ce), nil), ("sasrec sampled_softmax", spec(.sampledSoftmax), nil), ("hstu", hstuSpec, nil),
                                       ("sasrec ce, folded", folded, keys), ("sasrec sampled_softmax, every position", everyPosition, nil),
                                       ("hstu, every position", hstuEveryPosition, nil), ("sasrec ce, separate", separate, nil),
                                       ("sasrec ce, behaviours", behaviours, nil)] {
            let model = spec.makeModel(batchSize: 3, seed: 5, items: 12, foldKeys: foldKeys)
            let store = model.store
            // Away from the zero start, so that every term of the head's gradient is exercised.
            var rng = RandomSource(seed: 1)
            let gate = store["repeat.gate.weight"]!
            for i in 0..<gate.value.count { gate.value[i] = Float(rng.normal()) * 0.05 }
            store["repeat.gate.bias"]!.value[0] = 0.03
            (store["repeat.gate.history"]!.value[0], store["repeat.gate.history"]!.value[1]) = (0.05, -0.04)
            let features = store["repeat.features.weight"]!
            for i in 0..<features.value.count { features.value[i] = 0.07 * Float(i + 1) }
            func step() -> Double {
                var stepRng = RandomSource(seed: 9)  // the same negatives every call
                store.zeroGrad()
                return model.trainStep(sequences, rng: &stepRng)
            }
            _ = step()
            let analytic = store.parameters.map { p -> Tensor in
                let copy = Tensor(p.grad.shape)
                copy.copy(from: p.grad)
                return copy
            }
            // The head's parameters, and where its ∂h enters the encoder: the output LayerNorm (post-LN) and,
            // at the end of the chain, the item table (input and scores alike). The layers in between have
            // their own checks (PleatEncodersTests): through a whole model in float32 their finite
            // differences are dominated by rounding (relative errors 1e-3 to 5e-3 here, the head on or off).
            // δ (`repeat.gate.shift`) only ranks: training leaves it alone.
            XCTAssertEqual(store["repeat.gate.shift"]!.grad[0], 0, name)
            // A separate head's gradient stops at the state (its own parameters are checked here, the
            // encoder's against the model without the head below).
            let isSeparate = spec.sasrec.repeatCatalogue == .separate
            let checked = store.parameters.filter {
                ($0.name.hasPrefix("repeat.") && $0.name != "repeat.gate.shift")
                    || (!isSeparate && ["item_emb.weight", "blocks.0.ln2.weight", "blocks.0.ln2.bias"].contains($0.name))
            }
            XCTAssertEqual(store["repeat.features.weight"]?.shape, [3 + spec.behaviour.embeddedTypes], name)
            XCTAssertGreaterThanOrEqual(checked.count, 4, "\(name): \(store.parameters.map(\.name))")
            if foldKeys != nil {
                // The folds are read: their key embeddings get a gradient.
                XCTAssertGreaterThan(store["fold.key_emb.weight"].map { p in (0..<p.grad.count).map { abs(p.grad[$0]) }.max() ?? 0 } ?? 0, 0, name)
            }
            for (p, gradient) in zip(store.parameters, analytic) where checked.contains(where: { $0 === p }) {
                GradientCheck.check(p.value, gradient: gradient, "\(name) \(p.name)") { step() }
            }
        }
    }

    /// `separate`: the encoder and the item table get exactly the gradients of the model without the
    /// head (same weights, same batch), so under `seen = exclude` they train and rank as that model does.
    func testSeparateHeadLeavesTheEncoderToTheModelsOwnLoss() {
        var separate = spec(.ce)
        separate.sasrec.repeatCatalogue = .separate
        var plain = separate
        plain.sasrec.repeat = false
        func gradients(_ spec: ModelSpec) -> [String: [Float]] {
            let model = spec.makeModel(batchSize: 3, seed: 5, items: 12)
            if let gate = model.store["repeat.gate.weight"] { for i in 0..<gate.value.count { gate.value[i] = 0.3 } }  // a gate that would pull
            var rng = RandomSource(seed: 9)
            model.store.zeroGrad()
            _ = model.trainStep(sequences, rng: &rng)
            return Dictionary(uniqueKeysWithValues: model.store.parameters.map { ($0.name, $0.grad.array) })
        }
        let (withHead, without) = (gradients(separate), gradients(plain))
        XCTAssertGreaterThan(without.count, 4)
        for (name, gradient) in without {
            XCTAssertEqual(withHead[name], gradient, name)
        }
        XCTAssertGreaterThan(withHead["repeat.gate.weight"]?.map(abs).max() ?? 0, 0, "the gate itself learns")
        // The same head pulling on the state: the encoder's gradients differ.
        separate.sasrec.repeatCatalogue = .everyPosition
        XCTAssertNotEqual(gradients(separate)["item_emb.weight"], without["item_emb.weight"])
    }

    /// `every_position`: the catalogue loss also counts the positions whose target the user has seen, over
    /// every item: from the same weights its loss is the model's without the head plus the head's, and
    /// differs from the default's, which leaves those positions to the head.
    func testCatalogueOnEveryPositionAddsTheModelsOwnLoss() {
        for base in [spec(.ce), hstuSpec] {
            var every = base
            every.sasrec.repeatCatalogue = .everyPosition
            every.hstu.repeatCatalogue = .everyPosition
            var plain = base
            (plain.sasrec.repeat, plain.hstu.repeat) = (false, false)
            func loss(_ spec: ModelSpec) -> Double {
                var rng = RandomSource(seed: 9)
                return spec.makeModel(batchSize: 3, seed: 5, items: 12).trainStep(sequences, rng: &rng)
            }
            let (newTargets, everyPosition, withoutHead) = (loss(base), loss(every), loss(plain))
            // The head's parameters start at 0: g = ½ and the own items alike, so its part is known.
            XCTAssertGreaterThan(everyPosition, withoutHead, "\(base.kind): the head's terms are added")
            XCTAssertGreaterThan(abs(everyPosition - newTargets), 1e-3, "\(base.kind): the options train on different positions")
        }
    }

    /// Served scores, read as a softmax over the catalogue (scores/τ), give the user's own items the
    /// gate's probability g = σ(a) in all, shared as softmax(r) among them, and leave the other items'
    /// scores their plain dot products; a from the bias and the history facts, r from the features.
    func testServedScoresAreTheMixture() {
        for (name, spec, temperature) in [("sasrec", spec(.ce), Float(1)), ("hstu", hstuSpec, Float(0.5))] {
            let model = spec.makeModel(batchSize: 2, seed: 5, items: 12)
            let scores = Tensor([2, 13])
            // Query 0 came back to item 3 at its newest event (repeat share 1/3); query 1 did not.
            let queries = [ScoringQuery(history: EventSequence(items: [3, 4, 3][...], times: [1, 2, 3][...]), time: 4),
                           ScoringQuery(history: EventSequence(items: [7, 8][...], times: [1, 2][...]), time: 3)]
            let own: [[Int]] = [[3, 4], [7, 8]]
            model.scores(queries, into: scores)
            let start = scores.array
            let store = model.store
            store["repeat.gate.bias"]!.value[0] = 0.05
            (store["repeat.gate.history"]!.value[0], store["repeat.gate.history"]!.value[1]) = (0.06, 0.1)
            store["repeat.features.weight"]!.value[0] = 0.1  // with κ = 10: r_j = A(j)
            store["repeat.gate.shift"]!.value[0] = 0.3  // δ, validation's (`RepeatShift`)
            model.scores(queries, into: scores)
            let served = scores.array
            // Item 3 at ages 1 and 3: A = log(1 + 3^-0.5); item 4 at age 2: A = log(2^-0.5). Items 7, 8: ages 2, 1.
            let activations: [[Double]] = [[log(1 + pow(3.0, -0.5)), log(pow(2.0, -0.5))], [log(pow(2.0, -0.5)), 0]]
            // a = κ·(b + u₀·share + u₁·[newest repeats]) (the state's weight is 0 at the start), ranked at a + δ.
            let gates = [10 * (0.05 + 0.06 / 3 + 0.1), 10 * 0.05].map { 1 / (1 + exp(-($0 + 0.3))) }
            for r in 0..<2 {
                let row = (1...12).map { Double(served[r * 13 + $0] / temperature) }
                let m = row.max()!, total = row.reduce(0) { $0 + exp($1 - m) }
                let p = row.map { exp($0 - m) / total }
                let ownShare = own[r].reduce(0) { $0 + p[$1 - 1] }
                XCTAssertEqual(ownShare, gates[r], accuracy: 1e-4, "\(name) query \(r): g")
                let weights = activations[r].map(exp), weightSum = weights.reduce(0, +)
                for (i, item) in own[r].enumerated() {
                    XCTAssertEqual(p[item - 1] / ownShare, weights[i] / weightSum, accuracy: 1e-4, "\(name) query \(r) item \(item)")
                }
                for item in 1...12 where !own[r].contains(item) {
                    XCTAssertEqual(served[r * 13 + item], start[r * 13 + item], accuracy: 1e-6, "\(name) query \(r) item \(item)")
                }
            }
        }
    }

    /// Validation's one-pass NDCG@10 under each shift step (`Evaluator.evaluateShifts`) is what ranking
    /// with δ moved by that step gives, for SASRec and HSTU: 12 items, so that the ten best of the rest
    /// often hold every other item and the own items decide; histories longer than the window of 6.
    func testEveryShiftStepIsEvaluatedAsRankingWithItWould() {
        var rng = RandomSource(seed: 11)
        let examples = (0..<60).map { user -> SequenceSplit.Example in
            let length = 1 + rng.below(9)
            var items: [Int32] = []
            for _ in 0..<length { items.append(items.isEmpty || rng.below(2) == 0 ? Int32(1 + rng.below(12)) : items[rng.below(items.count)]) }
            let target = rng.below(3) == 0 ? Int32(1 + rng.below(12)) : items[rng.below(items.count)]
            return SequenceSplit.Example(user: user, history: items[...], historyTimes: items.indices.map { Int64(10 * $0) }[...],
                                         historyBehaviours: items.indices.map { _ in Int16(1 + rng.below(2)) }[...],
                                         target: target, targetTime: Int64(10 * length))
        }
        XCTAssert(examples.contains { $0.isRepeat } && examples.contains { !$0.isRepeat })
        // A model that reads bought events only: its own items are the bought ones, not the whole history.
        var boughtOnly = spec(.ce)
        boughtOnly.behaviour = BehaviourSettings(types: 2, names: ["view", "buy"], inputEvents: ["buy"])
        for (name, spec) in [("sasrec", spec(.ce)), ("hstu", hstuSpec), ("sasrec reading bought events", boughtOnly)] {
            let model = spec.makeModel(batchSize: 8, seed: 3, items: 12)
            model.store["repeat.features.weight"]!.value[1] = 0.1
            model.store["repeat.gate.bias"]!.value[0] = -0.2
            let shift = try! XCTUnwrap(model.repeatShift)
            shift.value = 0.4
            let (metrics, sums) = Evaluator.evaluateShifts(model, examples, shift: shift)
            let plain = Evaluator.evaluate(model, examples, seen: .include)
            XCTAssertEqual(metrics.ndcg(at: 10), plain.ndcg(at: 10), accuracy: 1e-12, name)
            for (step, sum) in zip(RepeatShift.steps, sums) {
                shift.value = 0.4 + step
                let moved = Evaluator.evaluate(model, examples, seen: .include).ndcg(at: 10) * Double(examples.count)
                XCTAssertEqual(sum, moved, accuracy: 1e-9, "\(name) step \(step)")
            }
            XCTAssertGreaterThan(Set(sums).count, 3, "\(name): the steps move the own items past others")
        }
    }
}
