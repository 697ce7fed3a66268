import XCTest
import PleatCore
import PleatTensor
import PleatHistories
import PleatTestSupport
@testable import PleatModel

/// `behaviour.input = interleaved`: each event is its item token and a token of the next event's behaviour;
/// the behaviour token's state predicts the item, sees nothing of it, and is what a query asking for a
/// behaviour is scored from.
final class InterleavedTokensTests: XCTestCase {
    private static let names = ["view", "cart", "buy"]

    private func spec(_ kind: ModelKind, predict: Bool = false) -> ModelSpec {
        var spec = ModelSpec(kind: kind, maxLength: 5)
        switch kind {
        case .hstu:
            (spec.hstu.encoder.dimension, spec.hstu.encoder.heads, spec.hstu.encoder.blocks, spec.hstu.encoder.dropout) = (8, 1, 1, 0)
            (spec.hstu.encoder.attention.dropout, spec.hstu.negatives) = (0, 16)
        default:
            (spec.sasrec.encoder.dimension, spec.sasrec.encoder.heads, spec.sasrec.encoder.blocks, spec.sasrec.encoder.dropout) = (8, 1, 1, 0)
            spec.sasrec.loss = .ce
        }
        spec.behaviour = BehaviourSettings(input: .interleaved, types: 3, names: Self.names)
        (spec.behaviour.queryEvent, spec.behaviour.predictBehaviour) = ("buy", predict)
        return spec
    }

    private func sequence(_ items: [Int32], _ behaviours: [Int16]) -> EventSequence {
        EventSequence(items: items[...], times: items.indices.map { Int64(60 * $0) }[...], behaviours: behaviours[...])
    }

    func testTokensAlternateItemsAndTheBehaviourOfTheEventAfter() {
        let model = spec(.sasrec).makeModel(batchSize: 2, seed: 1, items: 9) as! SASRecModel
        let backbone = model.backbone
        backbone.placeQueries([ScoringQuery(history: sequence([4, 5, 6], [1, 2, 3]), time: 500, event: "cart"),
                               ScoringQuery(history: sequence([7], [1]), time: 600)])
        var noDropout: RandomSource? = nil
        backbone.forward(rng: &noDropout)
        let tokens = try! XCTUnwrap(backbone.tokens)
        XCTAssertEqual(tokens.length, 6)
        // The behaviour token carries the item before it too (InterleavedTokens says why).
        XCTAssertEqual(Array(tokens.ids[0..<6]), [4, 4, 5, 5, 6, 6])
        // Each item (with its own behaviour) is followed by the next event's behaviour; the last by the one
        // the query asks for.
        XCTAssertEqual(Array(tokens.fields.behaviours![0..<6]), [1, 2, 2, 3, 3, 2])
        XCTAssertEqual(Array(tokens.fields.behaviours![6..<8]), [1, 3], "a query naming no behaviour asks for queryEvent (buy)")
        XCTAssertEqual(tokens.lengths, [6, 2])
        XCTAssertEqual(Array(tokens.times[0..<7]), [0, 0, 60, 60, 120, 120, 500])
        XCTAssertEqual(Array(tokens.times[7..<10]), [0, 0, 600])
    }

    /// The state that predicts event i + 1 reads its behaviour and nothing of its item: changing the item
    /// leaves the state, changing the behaviour moves it.
    func testTheStatePredictingAnItemSeesItsBehaviourButNotTheItem() {
        for kind in [ModelKind.sasrec, .hstu] {
            let model = spec(kind).makeModel(batchSize: 1, seed: 2, items: 9)
            let backbone = (model as? SASRecModel)?.backbone ?? (model as! HSTUModel).backbone
            func states(_ items: [Int32], _ behaviours: [Int16]) -> [Float] {
                var rng = RandomSource(seed: 1)
                backbone.placeTraining([sequence(items, behaviours)], rng: &rng)
                var noDropout: RandomSource? = nil
                backbone.forward(rng: &noDropout)
                return backbone.output.array
            }
            let d = backbone.output.columns
            let base = states([1, 2, 3, 4], [1, 1, 2, 3])
            // Row 1 predicts event 2 (item 3, cart).
            let otherItem = states([1, 2, 8, 4], [1, 1, 2, 3]), otherBehaviour = states([1, 2, 3, 4], [1, 1, 3, 3])
            XCTAssertEqual(Array(base[0..<(2 * d)]), Array(otherItem[0..<(2 * d)]), "\(kind): rows 0 and 1 do not read item 3")
            XCTAssertNotEqual(Array(base[d..<(2 * d)]), Array(otherBehaviour[d..<(2 * d)]), "\(kind): row 1 reads the cart")
            XCTAssertEqual(Array(base[0..<d]), Array(otherBehaviour[0..<d]), "\(kind): row 0 predicts event 1, before the cart")
        }
    }

    /// One history, two questions: the list for "cart" is not the list for "buy", and a query naming no
    /// behaviour is the query for `queryEvent`.
    func testTheAskedBehaviourChangesTheScores() {
        for kind in [ModelKind.sasrec, .hstu] {
            let model = spec(kind).makeModel(batchSize: 1, seed: 3, items: 9)
            func scores(_ event: String?) -> [Float] {
                let out = Tensor([1, 10])
                model.scores([ScoringQuery(history: sequence([1, 2, 3], [1, 2, 1]), time: 300, event: event)], into: out)
                return out.array
            }
            XCTAssertNotEqual(scores("cart"), scores("buy"), "\(kind)")
            XCTAssertEqual(scores(nil), scores("buy"), "\(kind)")
        }
    }

    /// With predict_behaviour, a query that names no behaviour asks for the one the head predicts after
    /// its last item: here the head's bias makes it "cart", whatever queryEvent says.
    func testAQueryNamingNoBehaviourAsksForThePredictedOne() {
        for kind in [ModelKind.sasrec, .hstu] {
            let model = spec(kind, predict: true).makeModel(batchSize: 2, seed: 3, items: 9)
            let head = model.store["behaviour_head.bias"]!
            (head.value[1], head.value[2], head.value[3]) = (0, 5, 0)
            func scores(_ event: String?) -> [Float] {
                let out = Tensor([2, 10])
                let query = ScoringQuery(history: sequence([1, 2, 3], [1, 2, 1]), time: 300, event: event)
                model.scores([query, ScoringQuery(history: sequence([4, 5], [1, 1]), time: 300, event: "buy")], into: out)
                return out.array
            }
            XCTAssertEqual(Array(scores(nil)[0..<10]), Array(scores("cart")[0..<10]), "\(kind): asks for the predicted cart")
            XCTAssertNotEqual(Array(scores(nil)[0..<10]), Array(scores("buy")[0..<10]), "\(kind)")
            XCTAssertEqual(Array(scores(nil)[10..<20]), Array(scores("cart")[10..<20]), "\(kind): a query naming one keeps it")
        }
    }

    /// Tolerance: `GradientCheck`'s (5·10⁻⁴ relative). The loss is GradientCheck's Σ w ⊙ y over the
    /// backbone's output (one row per event, gathered from the behaviour tokens), as the encoders' own
    /// checks are written, so that what is checked is the layout: the gather forward and the scatter
    /// backward, through every parameter of the encoder.
    func testGradientsMatchFiniteDifferences() {
        let sequences = [sequence([1, 2, 1, 3, 2, 4], [1, 2, 3, 1, 2, 3]), sequence([5, 6, 7], [1, 1, 3]), sequence([8, 9], [2, 3])]
        for (kind, predict) in [(ModelKind.sasrec, false), (.hstu, false), (.sasrec, true), (.hstu, true)] {
            let model = spec(kind, predict: predict).makeModel(batchSize: 3, seed: 5, items: 9)
            let backbone = (model as? SASRecModel)?.backbone ?? (model as! HSTUModel).backbone
            // Weights of the size the encoders' own checks use: at the initial scale (item rows of
            // ~0.01) the steps of GradientCheck are large against the weights themselves.
            var rng = RandomSource(seed: 9)
            for p in model.store.parameters { Initializer.normal(p.value, std: 0.3, rng: &rng) }
            backbone.placeTraining(sequences, rng: &rng)
            var noDropout: RandomSource? = nil
            backbone.forward(rng: &noDropout)
            let weights = GradientCheck.random(backbone.output.shape, seed: 4)
            // With predict_behaviour, plus the next behaviour's cross-entropy at the item tokens.
            func loss() -> Double {
                var noDropout: RandomSource? = nil
                backbone.forward(rng: &noDropout)
                return GradientCheck.weightedSum(backbone.output, weights) + backbone.behaviourLoss()
            }
            model.store.zeroGrad()
            _ = loss()
            backbone.outputGradient.copy(from: weights)
            backbone.backward()
            XCTAssertEqual(model.store["behaviour_head.weight"] != nil, predict)
            let analytic = model.store.parameters.map { p -> Tensor in
                let copy = Tensor(p.grad.shape)
                copy.copy(from: p.grad)
                return copy
            }
            XCTAssertNotNil(model.store["behaviour_emb.weight"], "\(kind)")
            let name = "\(kind)\(predict ? ", predicting the behaviour" : "")"
            var checked = 0
            for (p, gradient) in zip(model.store.parameters, analytic) {
                if GradientCheck.check(p.value, gradient: gradient, "\(name) \(p.name)", skipIfZero: true, loss: loss) != nil { checked += 1 }
            }
            // Every parameter but padding-only rows is reached; the skipped ones are listed by name.
            XCTAssertEqual(checked, model.store.parameters.count, "\(name): some parameters got no gradient")
        }
    }
}
