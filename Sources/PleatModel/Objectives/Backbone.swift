import PleatCore
import PleatEncoders
import PleatTensor

/// The encoder a causal next-item model (SASRec, HSTU) runs, and how its batches are laid out: the last
/// `window` events, or, with `fold.key` set, fold tokens of the older history followed by the window
/// (`FoldedEncoder`). Folded training ends each user's window at a random event among the last
/// `window_end_spread` of the history, so that the folds' contents vary; scoring ends it at the last event.
final class Backbone {
    enum Encoder {
        case plain(any ContextEncoder)
        case folded(FoldedEncoder, FoldBuilder)
    }

    let encoder: Encoder
    let batch: SequenceBatch
    let window: Int, windowEndSpread: Double
    let store: ParameterStore
    let items: Embedding
    let output: Tensor, outputGradient: Tensor
    /// The behaviours whose events the encoder reads (`BehaviourSettings.inputEvents`; nil: all).
    let inputBehaviours: Set<Int16>?
    /// With interleaved behaviour tokens, the layout the encoder runs on (nil: each event is a token).
    let tokens: InterleavedTokens?
    /// With `behaviour.predict_behaviour`: the next behaviour predicted at item tokens.
    let prediction: BehaviourPrediction?
    /// Which placed queries named no behaviour, so ask for the predicted one.
    private var asksPredicted: [Bool] = []
    /// Whether `behaviourLoss` left a gradient for `backward` to add.
    private var predictionGradientPending = false
    /// The model's behaviour id of each event type name, and the one a query that names none asks for.
    private let behaviourIds: [String: Int16], queryBehaviour: Int16

    /// `makePlain()` builds the encoder over the last `spec.maxLength` events; `makeFolded(shape)` the
    /// folded one, used when `foldKeys` is given and `fold.key` is set.
    init(spec: ModelSpec, batchSize: Int, foldKeys: FoldKeys?, plain makePlain: () -> any ContextEncoder,
         folded makeFolded: (FoldedEncoder.Shape) -> FoldedEncoder) {
        (window, windowEndSpread) = (spec.maxLength, spec.fold.windowEndSpread)
        inputBehaviours = spec.behaviour.inputBehaviours
        behaviourIds = Dictionary(spec.behaviour.names.enumerated().map { ($1, Int16($0 + 1)) }, uniquingKeysWith: { first, _ in first })
        queryBehaviour = spec.behaviour.queryBehaviour
        if let foldKeys, spec.fold.key != .none {
            precondition(spec.behaviour.input != .interleaved, "interleaved behaviour tokens do not fold")
            (tokens, prediction) = (nil, nil)
            var shape = FoldedEncoder.Shape()
            (shape.groups, shape.groupLength, shape.foldBlocks, shape.keys) = (spec.fold.groups, spec.fold.groupLength, spec.fold.foldBlocks, foldKeys.count)
            let folded = makeFolded(shape)
            encoder = .folded(folded, FoldBuilder(keys: foldKeys, shape: shape, batch: batchSize, window: spec.maxLength,
                                                  behaviourTypes: spec.behaviour.embeddedTypes, valueBuckets: spec.behaviour.valueBuckets))
            batch = SequenceBatch(batch: batchSize, length: shape.groups + spec.maxLength, behaviourTypes: spec.behaviour.embeddedTypes,
                                  valueBuckets: spec.behaviour.valueBuckets)
            (store, items, output, outputGradient) = (folded.store, folded.items, folded.output, folded.outputGradient)
        } else {
            let plain = makePlain()
            encoder = .plain(plain)
            batch = SequenceBatch(batch: batchSize, length: spec.maxLength, behaviourTypes: spec.behaviour.embeddedTypes,
                                  valueBuckets: spec.behaviour.valueBuckets)
            (store, items) = (plain.store, plain.items)
            if spec.behaviour.input == .interleaved {
                precondition(spec.behaviour.embeddedTypes > 0 && plain.length == 2 * spec.maxLength,
                             "interleaved tokens need behaviour types and an encoder of two positions per event")
                let tokens = InterleavedTokens(batch: batchSize, maxEvents: spec.maxLength, dimension: plain.output.columns,
                                               valueBuckets: spec.behaviour.valueBuckets)
                (self.tokens, output, outputGradient) = (tokens, tokens.output, tokens.outputGradient)
                prediction = spec.behaviour.predictBehaviour
                    ? BehaviourPrediction(plain.store, types: spec.behaviour.embeddedTypes, dimension: plain.output.columns,
                                          rows: batchSize * spec.maxLength)
                    : nil
            } else {
                (tokens, prediction, output, outputGradient) = (nil, nil, plain.output, plain.outputGradient)
            }
        }
    }

    /// Lays out next-item training pairs for `sequences` (labels at every window position whose next
    /// event is a target).
    func placeTraining(_ sequences: [EventSequence], rng: inout RandomSource) {
        let sequences = inputBehaviours == nil ? sequences : sequences.map { $0.keeping(inputBehaviours) }
        batch.clear()
        switch encoder {
        case .plain:
            for (b, s) in sequences.enumerated() { batch.placeShifted(s, row: b) }
        case .folded(_, let folder):
            var windows = rng.split(3)
            folder.clear()
            for (b, s) in sequences.enumerated() {
                let n = s.items.count, start = s.items.startIndex
                var end = n
                if n > window + 1 {
                    let lowest = max(window + 1, Int((Double(n) * (1 - windowEndSpread)).rounded(.up)))
                    end = lowest + windows.below(n - lowest + 1)
                }
                let first = max(0, end - window - 1)
                let folds = folder.fold(s[start..<(start + first)], windowStart: s.times[start + first], row: b, batch: batch)
                batch.placeShifted(s[(start + first)..<(start + end)], row: b, offset: folds)
            }
        }
    }

    /// Lays out scoring queries: each history's last events, the query time after them.
    func placeQueries(_ queries: [ScoringQuery]) {
        let queries = inputBehaviours == nil ? queries : queries.map { ScoringQuery(history: $0.history.keeping(inputBehaviours), time: $0.time, event: $0.event) }
        batch.clear()
        asksPredicted = queries.map { $0.event == nil && prediction != nil }
        switch encoder {
        case .plain:
            for (b, q) in queries.enumerated() { batch.place(q.history, next: q.time, nextBehaviour: askedBehaviour(q), row: b) }
        case .folded(_, let folder):
            folder.clear()
            for (b, q) in queries.enumerated() {
                let h = q.history, start = h.items.startIndex, first = max(0, h.items.count - window)
                let windowStart = first < h.items.count ? h.times[start + first] : q.time
                let folds = folder.fold(h[start..<(start + first)], windowStart: windowStart, row: b, batch: batch)
                batch.place(h[(start + first)..<h.items.endIndex], next: q.time, row: b, offset: folds)
            }
        }
    }

    /// The model's id of the behaviour a query asks for (0: one the model does not know).
    private func askedBehaviour(_ query: ScoringQuery) -> Int16 {
        query.event.map { behaviourIds[$0] ?? 0 } ?? queryBehaviour
    }

    /// Encodes the placed batch into `output`. A plain encoder runs at the batch's longest row
    /// (`SequenceBatch.pack`); a folded one at its fixed shape. `rng` nil: evaluation.
    func forward(rng: inout RandomSource?) {
        switch encoder {
        case .plain(let encoder):
            let n = batch.pack()
            if let tokens {
                encodeTokens(encoder, tokens, rng: &rng)
                tokens.gather(encoder.output)
                return
            }
            encoder.setLength(n)
            encoder.fields = batch.fields
            encoder.forward(batch.ids, lengths: batch.lengths, contextCounts: nil, timestamps: batch.times, rng: &rng)
        case .folded(let encoder, let folder):
            folder.finish(batch)
            encoder.forward(folder.inputs, rng: &rng)
        }
    }

    /// The placed queries' states at their last real positions, into `users` (one row per query): only
    /// the last position is computed in the last layer when the encoder can (`LastPositionEncoder`),
    /// otherwise the whole output is encoded and those rows gathered.
    func encodeLastPositions(into users: Tensor) {
        if case .plain(let encoder) = encoder, let last = encoder as? any LastPositionEncoder {
            let n = batch.pack()
            if let tokens {
                if let prediction, asksPredicted.contains(true) { askPredictedBehaviours(encoder, tokens, prediction, length: n) }
                last.setLength(tokens.layout(batch))
                last.fields = tokens.fields
                last.encodeLastPositions(tokens.ids, lengths: tokens.lengths, timestamps: tokens.times, into: users)
                return
            }
            last.setLength(n)
            last.fields = batch.fields
            last.encodeLastPositions(batch.ids, lengths: batch.lengths, timestamps: batch.times, into: users)
            return
        }
        var noDropout: RandomSource? = nil
        forward(rng: &noDropout)
        batch.gatherLastPositions(output, into: users)
    }

    /// The next-behaviour loss of the batch just encoded (training with `predict_behaviour`; else 0),
    /// its gradient added in `backward`.
    func behaviourLoss() -> Double {
        guard let prediction, case .plain(let encoder) = encoder else { return 0 }
        predictionGradientPending = true
        return prediction.lossAndGradient(tokenStates: encoder.output, events: batch)
    }

    /// Lays the events' batch out as tokens and encodes every token.
    private func encodeTokens(_ encoder: any ContextEncoder, _ tokens: InterleavedTokens, rng: inout RandomSource?) {
        encoder.setLength(tokens.layout(batch))
        encoder.fields = tokens.fields
        encoder.forward(tokens.ids, lengths: tokens.lengths, contextCounts: nil, timestamps: tokens.times, rng: &rng)
    }

    /// Sets the behaviour each query that named none asks for to the one predicted at its last item
    /// token: a pass over the tokens as laid out (the item token's state does not see the behaviour
    /// token after it), then the asked behaviour is placed for the pass that scores.
    private func askPredictedBehaviours(_ encoder: any ContextEncoder, _ tokens: InterleavedTokens, _ prediction: BehaviourPrediction, length n: Int) {
        var noDropout: RandomSource? = nil
        encodeTokens(encoder, tokens, rng: &noDropout)
        let last = (0..<batch.batch).map { max(Int(batch.lengths[$0]) - 1, 0) }
        let predicted = prediction.predict(tokenStates: encoder.output, length: n, last: last)
        for (b, asks) in asksPredicted.enumerated() where asks && batch.lengths[b] > 0 {
            batch.nextBehaviours[b * n + last[b]] = BehaviourSettings.encoderId(predicted[b], types: batch.behaviourTypes)
        }
    }

    func backward() {
        switch encoder {
        case .plain(let encoder):
            tokens?.scatter(into: encoder.outputGradient)
            if predictionGradientPending, let prediction { prediction.addGradient(into: encoder.outputGradient) }
            predictionGradientPending = false
            encoder.backward()
        case .folded(let encoder, _): encoder.backward()
        }
    }
}
