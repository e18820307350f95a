/// Group-relative advantages and the group statistics GRPO reports.
public enum Advantages {
    /// The ε added to the standard deviation (TRL's value).
    public static let stdEpsilon = 1e-4

    /// Advantages for `rewards`, laid out as consecutive groups of `groupSize` completions.
    ///
    /// A `nil` reward (the sample failed grading or every grader abstained) is left out of its
    /// group's mean and std and gets a `nil` advantage, so it carries no loss. A group with fewer
    /// than two valid rewards gets advantage 0 for its valid samples. Standard deviations are the
    /// unbiased (n − 1) estimate, as `torch.std`.
    /// - `group`: Â = (R − mean_g) / (std_g + ε)
    /// - `batch`: Â = (R − mean_g) / (std_batch + ε)
    /// - `none`:  Â = R − mean_g (Dr. GRPO)
    public static func compute(rewards: [Double?], groupSize: Int, scale: ScaleRewards) -> [Double?] {
        precondition(groupSize > 0 && rewards.count % groupSize == 0, "rewards must form whole groups")
        let batchStd = std(rewards.compactMap { $0 })
        var out = [Double?](repeating: nil, count: rewards.count)
        for start in stride(from: 0, to: rewards.count, by: groupSize) {
            let group = rewards[start..<start + groupSize]
            let valid = group.compactMap { $0 }
            guard valid.count >= 2 else {
                for i in group.indices where rewards[i] != nil { out[i] = 0 }
                continue
            }
            let mean = valid.reduce(0, +) / Double(valid.count)
            let divisor: Double
            switch scale {
            case .group: divisor = std(valid) + stdEpsilon
            case .batch: divisor = batchStd + stdEpsilon
            case .none: divisor = 1
            }
            for i in group.indices { if let r = rewards[i] { out[i] = (r - mean) / divisor } }
        }
        return out
    }

    /// Unbiased standard deviation; 0 for fewer than two values.
    public static func std(_ xs: [Double]) -> Double {
        guard xs.count >= 2 else { return 0 }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let ss = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (ss / Double(xs.count - 1)).squareRoot()
    }

    /// Whether a group gives no learning signal: all its valid rewards are equal (or fewer than two are valid).
    public static func hasZeroStd(_ group: ArraySlice<Double?>) -> Bool {
        let valid = group.compactMap { $0 }
        guard let first = valid.first, valid.count >= 2 else { return true }
        return valid.allSatisfy { abs($0 - first) < 1e-12 }
    }

    /// The share of groups with zero reward spread (`frac_reward_zero_std`).
    public static func fracZeroStd(rewards: [Double?], groupSize: Int) -> Double {
        let groups = rewards.count / groupSize
        guard groups > 0 else { return 0 }
        var zero = 0
        for g in 0..<groups where hasZeroStd(rewards[g * groupSize..<(g + 1) * groupSize]) { zero += 1 }
        return Double(zero) / Double(groups)
    }
}

/// DAPO's soft overlong punishment, added to the reward.
extension OverlongShaping {
    /// 0 up to `maxLen − bufferLen`, then linear to `−penalty` at `maxLen`, and `−penalty` beyond.
    public func reward(length: Int) -> Double {
        let start = maxLen - bufferLen
        if length <= start { return 0 }
        if length > maxLen { return -penalty }
        return Double(start - length) / Double(bufferLen) * penalty
    }
}
