import PleatTensor

extension ItemScoring {
    /// Per query, its target's full-ranking count, as `RankingMetrics.fullRank` counts it over a row:
    /// the items 1...items other than the target whose score is at least the target's, leaving out
    /// `excluded[r]` (any order; repeats allowed); and with `k` > 0 its best k items after the same
    /// exclusions (as `topK`). In blocks, like `topK`: memory does not grow with the catalogue, which
    /// full rows of scores do (a batch of 256 at 10⁶ items is a gigabyte).
    ///
    /// The target's score comes from the same block product as every other score of its row (one
    /// extra pass over the blocks that hold targets), so a target never counts itself and ties are
    /// counted as in a full row. `scratch` holds at least `count × blockColumns` floats.
    public func ranks(targets: [Int32], excluding excluded: [[Int32]], k: Int, scratch: Tensor)
        -> (ranks: [Int], lists: [(items: [Int32], scores: [Float])]) {
        precondition(targets.count == count && excluded.count == count && scratch.count >= count * Self.blockColumns)
        precondition(targets.allSatisfy { (1...items).contains(Int($0)) }, "targets are item indices 1...items")
        let k = min(k, items)
        var ranks = [Int](repeating: 0, count: count)
        var indices = [Int32](repeating: 0, count: count * k), selected = [Float](repeating: 0, count: count * k)
        var found = [Int](repeating: 0, count: count)
        ranks.withUnsafeMutableBufferPointer { ranks in
            indices.withUnsafeMutableBufferPointer { indices in
                selected.withUnsafeMutableBufferPointer { selected in
                    found.withUnsafeMutableBufferPointer { found in withOverrides { overrides in
                        Parallel.forRows(count, minimumPerWorker: 8) { rows in
                            let leftOut = rows.map { excluded[$0].sorted() }
                            let block = scratch.pointer + rows.lowerBound * Self.blockColumns
                            func blockStart(_ item: Int32) -> Int { (Int(item) - 1) / Self.blockColumns * Self.blockColumns + 1 }
                            // The targets' own scores, from the blocks that hold them.
                            var targetScores = [Float](repeating: 0, count: rows.count)
                            let targetBlocks = Set(rows.map { blockStart(targets[$0]) }).sorted()
                            scanBlocks(targetBlocks, rows: rows, leftOut: rows.map { _ in [] }, block: block, overrides: overrides) { q, row, first, width in
                                let target = Int(targets[rows.lowerBound + q])
                                if target >= first && target < first + width { targetScores[q] = row[target - first] }
                            }
                            var selections = k > 0 ? rows.map { TopK.Selection(k: k, indices: indices.start + $0 * k, scores: selected.start + $0 * k) } : []
                            var counts = [Int](repeating: 0, count: rows.count)
                            scanBlocks(Self.blockFirsts(items: items), rows: rows, leftOut: leftOut, block: block, overrides: overrides) { q, row, first, width in
                                let t = targetScores[q], target = Int(targets[rows.lowerBound + q])
                                var atLeast = 0
                                for j in 0..<width where row[j] >= t { atLeast += 1 }
                                if target >= first && target < first + width && row[target - first] >= t { atLeast -= 1 }
                                counts[q] += atLeast
                                if k > 0 { selections[q].offer(row, count: width, firstIndex: first) }
                            }
                            for q in 0..<rows.count {
                                ranks[rows.lowerBound + q] = counts[q]
                                if k > 0 { found[rows.lowerBound + q] = selections[q].finish() }
                            }
                        }
                    } }
                }
            }
        }
        return (ranks, (0..<count).map { r in (Array(indices[(r * k)..<(r * k + found[r])]), Array(selected[(r * k)..<(r * k + found[r])])) })
    }
}
