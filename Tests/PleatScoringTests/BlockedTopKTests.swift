import XCTest
import PleatCore
import PleatModel
import PleatTensor

/// Scoring's top-K over blocks of the catalogue (`ItemScoring.topK`) gives what the full row of scores
/// and a selection over it give, for every model's scoring rule (SASRec's dot product, HSTU's normalised
/// table, BERT4Rec's output bias, SASRec's repeat head's boosts), across block boundaries, with the
/// history's items left out.
final class BlockedTopKTests: XCTestCase {
    func testBlockedTopKMatchesSelectionOverTheFullRow() throws {
        let items = 2 * ItemScoring.blockColumns + 300, batch = 12
        var rng = RandomSource(seed: 5)
        for (kind, repeatHead) in [(ModelKind.sasrec, false), (.sasrec, true), (.bert4rec, false), (.hstu, false)] {
            var spec = ModelSpec(kind: kind, maxLength: 12)
            (spec.sasrec.encoder.dimension, spec.bert4rec.encoder.dimension, spec.hstu.encoder.dimension) = (16, 16, 16)
            spec.sasrec.repeat = repeatHead
            let model = spec.makeModel(batchSize: batch, seed: 3, items: items)
            if repeatHead {
                // Boosts large enough to lift the user's own items into every list.
                try XCTUnwrap(model.store["repeat.gate.bias"]).value[0] = 3
                let features = try XCTUnwrap(model.store["repeat.features.weight"])
                for i in 0..<features.value.count { features.value[i] = 0.2 }
            }
            if kind == .bert4rec {
                // A trained model's output bias is not zero: make it count.
                let bias = try XCTUnwrap(model.store.parameters.first { $0.name.hasSuffix("head.bias") })
                for j in 0..<bias.value.count { bias.value.pointer[j] = Float(rng.uniform() - 0.5) }
            }
            let histories: [[Int32]] = (0..<batch).map { r in
                // Block edges and the last item included; repeats allowed.
                let edges: [Int32] = [1, Int32(ItemScoring.blockColumns), Int32(ItemScoring.blockColumns + 1), Int32(items)]
                return (0..<rng.below(30)).map { _ in Int32(1 + rng.below(items)) } + (r % 3 == 0 ? edges : [])
            }
            let queries = histories.map { h in
                ScoringQuery(history: EventSequence(items: h[...], times: h.indices.map { Int64($0) }[...]), time: Int64(h.count))
            }
            let full = Tensor([batch, items + 1])
            model.scores(queries, into: full)
            for k in [1, 10, 100, items] {
                let excluded = histories.enumerated().map { r, h in r % 4 == 1 ? [] : h }
                let blocked = model.itemScoring(for: queries).topK(k: k, excluding: excluded, scratch: Tensor([batch, ItemScoring.blockColumns]))
                for r in 0..<batch {
                    let row = full.pointer + r * full.columns
                    var expected = Array(UnsafeBufferPointer(start: row, count: full.columns))
                    expected[0] = -.infinity
                    for item in excluded[r] { expected[Int(item)] = -.infinity }
                    var indices = [Int32](repeating: 0, count: k), scores = [Float](repeating: 0, count: k)
                    let found = TopK.select(expected, count: expected.count, k: k, indices: &indices, scores: &scores)
                    let wanted = Array(indices.prefix(found))
                    // The same items in the same order, but for items whose scores differ by rounding only:
                    // the blocks' products and the full row's may round differently (the BLAS kernel blocks
                    // each shape its own way), which can swap near-equal items deep in a full ranking.
                    XCTAssertEqual(blocked[r].items.count, found, "\(kind), k \(k), row \(r)")
                    XCTAssertEqual(Set(blocked[r].items).count, blocked[r].items.count, "\(kind), k \(k), row \(r): an item twice")
                    for (i, (got, want)) in zip(blocked[r].items, wanted).enumerated() where got != want {
                        let (a, b) = (expected[Int(got)], expected[Int(want)])
                        XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "\(kind), k \(k), row \(r), rank \(i + 1): item \(got) for \(want)")
                    }
                    for (a, b) in zip(blocked[r].scores, scores) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "\(kind), k \(k)") }
                    XCTAssertFalse(blocked[r].items.contains { excluded[r].contains($0) || $0 == 0 }, "\(kind): an excluded item or padding selected")
                }
            }
        }
    }
}
