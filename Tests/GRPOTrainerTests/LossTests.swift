import XCTest
@testable import GRPOTrainer

final class AdvantageTests: XCTestCase {
    let eps = Advantages.stdEpsilon

    func testGroupScaleUsesUnbiasedStdPlusEpsilon() {
        let a = Advantages.compute(rewards: [1, 0, 0, 1], groupSize: 4, scale: .group)
        let expected = 0.5 / ((1.0 / 3).squareRoot() + eps)   // std of {1,0,0,1} with n−1 = √(1/3)
        XCTAssertEqual(a[0]!, expected, accuracy: 1e-9)
        XCTAssertEqual(a[1]!, -expected, accuracy: 1e-9)
    }

    func testBatchAndNoneScaling() {
        let rewards: [Double?] = [1, 0, 1, 1]
        let batch = Advantages.compute(rewards: rewards, groupSize: 2, scale: .batch)
        // group means 0.5 and 1; batch std of {1,0,1,1} (n−1) = 0.5
        XCTAssertEqual(batch[0]!, 0.5 / (0.5 + eps), accuracy: 1e-9)
        XCTAssertEqual(batch[2]!, 0, accuracy: 1e-12)
        let none = Advantages.compute(rewards: rewards, groupSize: 2, scale: .none)
        XCTAssertEqual(none.map { $0! }, [0.5, -0.5, 0, 0])
        XCTAssertEqual(Advantages.fracZeroStd(rewards: rewards, groupSize: 2), 0.5)
    }

    func testFailedSamplesAreLeftOutOfStatistics() {
        let a = Advantages.compute(rewards: [1, nil, 0, 0], groupSize: 4, scale: .group)
        XCTAssertNil(a[1])
        // valid {1,0,0}: mean 1/3, std (n−1) = √(1/3)
        XCTAssertEqual(a[0]!, (2.0 / 3) / ((1.0 / 3).squareRoot() + eps), accuracy: 1e-9)
        // A group with a single valid reward has no signal.
        let lone = Advantages.compute(rewards: [nil, 1, nil, nil], groupSize: 4, scale: .group)
        XCTAssertEqual(lone[1], 0)
        XCTAssertTrue(Advantages.hasZeroStd(lone.map { _ in nil }[0..<4]))
    }

    func testOverlongShaping() {
        let o = OverlongShaping(maxLen: 16, bufferLen: 4)
        XCTAssertEqual(o.reward(length: 12), 0)
        XCTAssertEqual(o.reward(length: 14), -0.5)
        XCTAssertEqual(o.reward(length: 16), -1)
        XCTAssertEqual(o.reward(length: 40), -1)
    }
}

final class PolicyLossTests: XCTestCase {
    /// Two sequences, Â = +1 (2 tokens) and −1 (3 tokens), on-policy (ratio 1), β = 0.
    func batch() -> [SequenceLossInput] {
        [SequenceLossInput(logp: [-1, -2], advantage: 1), SequenceLossInput(logp: [-1, -1, -1], advantage: -1)]
    }

    func testGRPONormalisesPerSequence() {
        let out = PolicyLoss.compute(batch(), settings: .init(lossType: .grpo, maxCompletionLength: 4))
        XCTAssertEqual(out.loss, 0, accuracy: 1e-12)                 // −½(1 − 1)
        XCTAssertEqual(out.dLogp[0], [-0.25, -0.25])                  // −1/(2·2)
        for g in out.dLogp[1] { XCTAssertEqual(g, 1.0 / 6, accuracy: 1e-7) }  // +1/(2·3)
    }

    func testDrGRPODividesByMaxLength() {
        let out = PolicyLoss.compute(batch(), settings: .init(lossType: .drGRPO, maxCompletionLength: 4))
        XCTAssertEqual(out.loss, 0.125, accuracy: 1e-12)             // −(2 − 3)/(2·4)
        XCTAssertEqual(out.dLogp[0], [-0.125, -0.125])
        XCTAssertEqual(out.dLogp[1], [0.125, 0.125, 0.125])
    }

    func testDAPONormalisesByBatchTokens() {
        let out = PolicyLoss.compute(batch(), settings: .init(lossType: .dapo, maxCompletionLength: 4))
        XCTAssertEqual(out.loss, 0.2, accuracy: 1e-12)               // −(2 − 3)/5
        XCTAssertEqual(out.dLogp[0], [-0.2, -0.2])
        XCTAssertEqual(out.dLogp[1], [0.2, 0.2, 0.2])
    }

    func testMaskedTokensCarryNoLoss() {
        let seq = SequenceLossInput(logp: [-1, -5, -1], mask: [1, 0, 1], advantage: 2)
        let out = PolicyLoss.compute([seq], settings: .init(lossType: .grpo, maxCompletionLength: 8))
        XCTAssertEqual(out.loss, -2, accuracy: 1e-12)
        XCTAssertEqual(out.dLogp[0], [-1, 0, -1])
        XCTAssertEqual(out.tokens, 2)
    }

    func testClippingAndClipHigher() {
        let old: [Float] = [0]
        // r = 1.5, Â = +1: clipped at 1.2 → loss −1.2, no gradient, counted as high-clipped.
        let high = SequenceLossInput(logp: [Float(log(1.5))], oldLogp: old, advantage: 1)
        var out = PolicyLoss.compute([high], settings: .init(lossType: .grpo, maxCompletionLength: 1))
        XCTAssertEqual(out.loss, -1.2, accuracy: 1e-6)
        XCTAssertEqual(out.dLogp[0][0], 0)
        XCTAssertEqual(out.clipHigh, 1); XCTAssertEqual(out.clipLow, 0); XCTAssertEqual(out.clipRegion, 1)
        // Clip-higher ε_high = 0.6: r = 1.5 is inside → loss −1.5, ∂/∂logp = −r·Â = −1.5.
        out = PolicyLoss.compute([high], settings: .init(lossType: .grpo, epsilonLow: 0.2, epsilonHigh: 0.6, maxCompletionLength: 1))
        XCTAssertEqual(out.loss, -1.5, accuracy: 1e-6)
        XCTAssertEqual(out.dLogp[0][0], -1.5, accuracy: 1e-6)
        XCTAssertEqual(out.clipHigh, 0)
        // r = 0.5, Â = −1: min(−0.5, −0.8) = −0.8 is the clipped branch → loss 0.8, no gradient, low-clipped.
        let low = SequenceLossInput(logp: [Float(log(0.5))], oldLogp: old, advantage: -1)
        out = PolicyLoss.compute([low], settings: .init(lossType: .grpo, maxCompletionLength: 1))
        XCTAssertEqual(out.loss, 0.8, accuracy: 1e-6)
        XCTAssertEqual(out.dLogp[0][0], 0)
        XCTAssertEqual(out.clipLow, 1)
        // r = 1.5, Â = −1: min(−1.5, −1.2) = −1.5 is unclipped → gradient −r·Â·(−1) = +1.5.
        let pess = SequenceLossInput(logp: [Float(log(1.5))], oldLogp: old, advantage: -1)
        out = PolicyLoss.compute([pess], settings: .init(lossType: .grpo, maxCompletionLength: 1))
        XCTAssertEqual(out.loss, 1.5, accuracy: 1e-6)
        XCTAssertEqual(out.dLogp[0][0], 1.5, accuracy: 1e-6)
        XCTAssertEqual(out.clipRegion, 0)
    }

    func testK3KLAgainstReference() {
        // π = 0.5, π_ref = 0.25: KL = 0.5 − ln 0.5 − 1 = 0.193147; ∂/∂logp = β(1 − π_ref/π) = 0.05.
        let seq = SequenceLossInput(logp: [Float(log(0.5))], refLogp: [Float(log(0.25))], advantage: 0)
        let out = PolicyLoss.compute([seq], settings: .init(lossType: .grpo, beta: 0.1, maxCompletionLength: 1))
        XCTAssertEqual(out.kl, 0.5 - log(0.5) - 1, accuracy: 1e-6)
        XCTAssertEqual(out.loss, 0.1 * (0.5 - log(0.5) - 1), accuracy: 1e-7)
        XCTAssertEqual(out.dLogp[0][0], 0.05, accuracy: 1e-7)
        // β = 0 ignores the reference.
        let none = PolicyLoss.compute([seq], settings: .init(lossType: .grpo, beta: 0, maxCompletionLength: 1))
        XCTAssertEqual(none.loss, 0); XCTAssertEqual(none.kl, 0)
    }

    /// The analytic gradient matches central differences for every loss type on random inputs.
    func testGradientMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 7)
        func u() -> Float { Float(Double(rng.next() % 1_000_000) / 1_000_000) }
        for lossType in LossType.allCases {
            var batch: [SequenceLossInput] = []
            for i in 0..<3 {
                let T = 2 + i
                let logp = (0..<T).map { _ in -0.2 - 2 * u() }
                let old = logp.map { $0 + 0.3 * (u() - 0.5) }
                let ref = logp.map { $0 + 0.5 * (u() - 0.5) }
                batch.append(SequenceLossInput(logp: logp, oldLogp: old, refLogp: ref, advantage: 2 * u() - 1))
            }
            let s = PolicyLossSettings(lossType: lossType, epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0.3, maxCompletionLength: 6)
            let out = PolicyLoss.compute(batch, settings: s)
            for i in batch.indices {
                for t in batch[i].logp.indices {
                    let h: Float = 1e-3
                    var plus = batch, minus = batch
                    plus[i].logp[t] += h; minus[i].logp[t] -= h
                    let num = (PolicyLoss.compute(plus, settings: s).loss - PolicyLoss.compute(minus, settings: s).loss) / Double(2 * h)
                    XCTAssertEqual(Double(out.dLogp[i][t]), num, accuracy: 2e-3, "\(lossType) seq \(i) token \(t)")
                }
            }
        }
    }
}

/// A tiny deterministic generator for test inputs.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

final class MicroBatchTests: XCTestCase {
    func testMicroBatchesGiveTheFullBatchGradient() {
        let batch = [SequenceLossInput(logp: [-1, -2], refLogp: [-1.1, -1.9], advantage: 1),
                     SequenceLossInput(logp: [-1, -1, -1], refLogp: [-0.9, -1.2, -1], advantage: -1),
                     SequenceLossInput(logp: [-0.5], refLogp: [-0.6], mask: [0], advantage: 0.5)]
        for lossType in LossType.allCases {
            let s = PolicyLossSettings(lossType: lossType, beta: 0.1, maxCompletionLength: 4)
            let full = PolicyLoss.compute(batch, settings: s)
            let totals = BatchTotals(masks: batch.map(\.mask))
            let merged = PolicyLossOutput.merge([PolicyLoss.compute(Array(batch[0..<1]), settings: s, totals: totals),
                                                 PolicyLoss.compute(Array(batch[1...]), settings: s, totals: totals)])
            XCTAssertEqual(merged.loss, full.loss, accuracy: 1e-12, "\(lossType)")
            XCTAssertEqual(merged.dLogp, full.dLogp, "\(lossType)")
            XCTAssertEqual(merged.kl, full.kl, accuracy: 1e-12)
            XCTAssertEqual(merged.tokens, 5)
        }
    }
}
