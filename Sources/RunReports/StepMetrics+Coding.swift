/// `StepMetrics` as one flat JSON object: the fixed `CodingKeys` beside the `FlatKey` names.
extension StepMetrics {
    /// Any metric name, for the keys that carry a grader, an error type or k.
    struct AnyKey: CodingKey {
        let stringValue: String
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func always(_ value: Double?, _ key: CodingKeys) throws {
            if let value, value.isFinite { try c.encode(value, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
        try c.encode(step, forKey: .step)
        try c.encode(epoch, forKey: .epoch)
        try always(time, .time)
        try always(reward, .reward)
        try always(rewardStd, .rewardStd)
        try always(fracRewardZeroStd, .fracRewardZeroStd)
        try always(completionsMeanLength, .completionsMeanLength)
        try always(completionsMinLength, .completionsMinLength)
        try always(completionsMaxLength, .completionsMaxLength)
        try always(completionsClippedRatio, .completionsClippedRatio)
        try always(kl, .kl)
        try always(loss, .loss)
        try always(entropy, .entropy)
        try always(clipRatioLowMean, .clipRatioLowMean)
        try always(clipRatioHighMean, .clipRatioHighMean)
        try always(clipRatioRegionMean, .clipRatioRegionMean)
        try always(gradNorm, .gradNorm)
        try always(learningRate, .learningRate)
        try c.encode(numTokens, forKey: .numTokens)
        try always(tokensPerS, .tokensPerS)
        try always(samplingTokensPerS, .samplingTokensPerS)
        try always(stepTime, .stepTime)
        try always(timingSamplingS, .timingSamplingS)
        try always(timingGradingWaitS, .timingGradingWaitS)
        try always(timingUpdateS, .timingUpdateS)
        try always(graderLatencyMsMean, .graderLatencyMsMean)
        try always(graderLatencyMsP99, .graderLatencyMsP99)
        try c.encodeIfPresent(graderAbstained, forKey: .graderAbstained)
        try c.encodeIfPresent(dynamicSamplingGroupsSampled, forKey: .dynamicSamplingGroupsSampled)
        try c.encodeIfPresent(dynamicSamplingGroupsKept, forKey: .dynamicSamplingGroupsKept)
        if let validation {
            try always(validation.reward, .valReward)
            try always(validation.passRate, .valPassRate)
        }
        try c.encodeIfPresent(warnings, forKey: .warnings)

        var flat = encoder.container(keyedBy: AnyKey.self)
        func flatAlways(_ value: Double?, _ key: FlatKey) throws {
            let k = AnyKey(key.name)
            if let value, value.isFinite { try flat.encode(value, forKey: k) } else { try flat.encodeNil(forKey: k) }
        }
        for (grader, stats) in rewards {
            try flatAlways(stats.mean, .rewardMean(grader: grader))
            try flatAlways(stats.std, .rewardStd(grader: grader))
        }
        for (type, count) in graderErrors { try flat.encode(count, forKey: AnyKey(FlatKey.graderErrors(type: type).name)) }
        if let p = validation?.passAtK { try flatAlways(p.value, .valPassAtK(k: p.k)) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func number(_ key: CodingKeys) throws -> Double? { try c.decodeIfPresent(Double.self, forKey: key) }
        step = try c.decode(Int.self, forKey: .step)
        epoch = try c.decodeIfPresent(Int.self, forKey: .epoch) ?? 0
        time = try number(.time) ?? 0
        numTokens = try c.decodeIfPresent(Int.self, forKey: .numTokens) ?? 0
        reward = try number(.reward)
        rewardStd = try number(.rewardStd)
        fracRewardZeroStd = try number(.fracRewardZeroStd)
        completionsMeanLength = try number(.completionsMeanLength)
        completionsMinLength = try number(.completionsMinLength)
        completionsMaxLength = try number(.completionsMaxLength)
        completionsClippedRatio = try number(.completionsClippedRatio)
        kl = try number(.kl)
        loss = try number(.loss)
        entropy = try number(.entropy)
        clipRatioLowMean = try number(.clipRatioLowMean)
        clipRatioHighMean = try number(.clipRatioHighMean)
        clipRatioRegionMean = try number(.clipRatioRegionMean)
        gradNorm = try number(.gradNorm)
        learningRate = try number(.learningRate)
        tokensPerS = try number(.tokensPerS)
        samplingTokensPerS = try number(.samplingTokensPerS)
        stepTime = try number(.stepTime)
        timingSamplingS = try number(.timingSamplingS)
        timingGradingWaitS = try number(.timingGradingWaitS)
        timingUpdateS = try number(.timingUpdateS)
        graderLatencyMsMean = try number(.graderLatencyMsMean)
        graderLatencyMsP99 = try number(.graderLatencyMsP99)
        graderAbstained = try c.decodeIfPresent(Int.self, forKey: .graderAbstained)
        dynamicSamplingGroupsSampled = try c.decodeIfPresent(Int.self, forKey: .dynamicSamplingGroupsSampled)
        dynamicSamplingGroupsKept = try c.decodeIfPresent(Int.self, forKey: .dynamicSamplingGroupsKept)
        warnings = try c.decodeIfPresent([Warning].self, forKey: .warnings)
        var validation: Validation? = nil
        if c.contains(.valReward) || c.contains(.valPassRate) {
            validation = Validation(reward: try number(.valReward), passRate: try number(.valPassRate))
        }

        let flat = try decoder.container(keyedBy: AnyKey.self)
        for key in flat.allKeys {
            switch FlatKey(name: key.stringValue) {
            case .rewardMean(let g)?:
                rewards[g, default: RewardStats(mean: nil, std: nil)].mean = try flat.decodeIfPresent(Double.self, forKey: key)
            case .rewardStd(let g)?:
                rewards[g, default: RewardStats(mean: nil, std: nil)].std = try flat.decodeIfPresent(Double.self, forKey: key)
            case .graderErrors(let t)?:
                graderErrors[t] = try flat.decode(Int.self, forKey: key)
            case .valPassAtK(let k)?:
                if let p = try flat.decodeIfPresent(Double.self, forKey: key) {
                    validation = validation ?? Validation(reward: nil, passRate: nil)
                    validation?.passAtK = (k, p)
                }
            case nil:
                break
            }
        }
        self.validation = validation
    }
}
