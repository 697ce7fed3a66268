import PleatTensor

/// Checks of scoring's last-position path (`LastPositionEncoder`) against the full forward pass.
public enum LastPositions {
    /// The largest |users[b, i] − full[b's last real position, i]| over sequences with at least one
    /// position; `full` has `length` rows per sequence, `users` one.
    public static func largestDifference(users: Tensor, full: Tensor, lengths: [Int32], length n: Int) -> Float {
        let d = users.columns
        var worst: Float = 0
        for (b, count) in lengths.enumerated() where count > 0 {
            for i in 0..<d { worst = max(worst, abs(users[b * d + i] - full[(b * n + Int(count) - 1) * d + i])) }
        }
        return worst
    }
}
