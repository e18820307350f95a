import Foundation

/// AdamW (decoupled weight decay, Loshchilov & Hutter) over a model's parameter buffer.
///
/// The moment buffers `m`, `v` and the step count are public so checkpoints can save and restore
/// them (`state` / `restore(_:)`). Weight decay applies to matrices only (tensors of rank ≥ 2,
/// i.e. projections and embeddings), not to norm weights or biases.
///
///     let opt = AdamW(layout: model.layout, weightDecay: 0.1)
///     model.zeroGrad()
///     _ = try model.crossEntropyLossAndBackward(batch)
///     let norm = clipGradNorm(model.gradients, maxNorm: 1)
///     opt.step(parameters: model.parameters, gradients: model.gradients, learningRate: schedule.learningRate(at: opt.stepCount))
public final class AdamW {
    public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    /// First and second moment estimates, one per parameter.
    public private(set) var m: [Float], v: [Float]
    /// Updates taken so far.
    public private(set) var stepCount: Int = 0
    /// `[start, end)` float ranges of the buffer that get weight decay.
    let decayRanges: [Range<Int>]

    public init(layout: ParameterLayout, beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8,
                weightDecay: Float = 0.0) {
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        m = [Float](repeating: 0, count: layout.totalCount); v = m
        decayRanges = layout.tensors.filter { $0.shape.count >= 2 }.map { $0.offset..<($0.offset + $0.count) }
    }

    /// One update: `θ ← θ − lr · (m̂ / (√v̂ + eps) + weightDecay · θ)` (decay on matrices only).
    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeMutableBufferPointer<Float>,
                     learningRate lr: Float) {
        precondition(parameters.count == m.count && gradients.count == m.count, "AdamW: buffer size mismatch")
        stepCount += 1
        let b1 = beta1, b2 = beta2, e = eps
        let c1 = 1 / (1 - Float(pow(Double(b1), Double(stepCount))))
        let c2 = 1 / (1 - Float(pow(Double(b2), Double(stepCount))))
        let p = parameters.baseAddress!, g = gradients.baseAddress!
        if weightDecay != 0 {
            let shrink = 1 - lr * weightDecay
            for r in decayRanges { for i in r { p[i] *= shrink } }
        }
        m.withUnsafeMutableBufferPointer { mb in
            v.withUnsafeMutableBufferPointer { vb in
                let mp = mb.baseAddress!, vp = vb.baseAddress!, n = mb.count
                let vb1 = F8(repeating: b1), vb1c = F8(repeating: 1 - b1), vb2 = F8(repeating: b2)
                let vb2c = F8(repeating: 1 - b2), vStep = F8(repeating: lr * c1), vc2 = F8(repeating: c2)
                let ve = F8(repeating: e)
                var i = 0
                while i + 8 <= n {
                    let gi = load8(g, i)
                    let mi = vb1 * load8(mp, i) + vb1c * gi
                    let vi = vb2 * load8(vp, i) + vb2c * gi * gi
                    store8(mp, i, mi); store8(vp, i, vi)
                    store8(p, i, load8(p, i) - vStep * mi / ((vi * vc2).squareRoot() + ve))
                    i += 8
                }
                while i < n {
                    let gi = g[i]
                    let mi = b1 * mp[i] + (1 - b1) * gi
                    let vi = b2 * vp[i] + (1 - b2) * gi * gi
                    mp[i] = mi; vp[i] = vi
                    p[i] -= lr * c1 * mi / ((vi * c2).squareRoot() + e)
                    i += 1
                }
            }
        }
    }

    /// Optimizer state for checkpoints.
    public struct State: Codable, Equatable, Sendable {
        public var stepCount: Int
        public var m: [Float]
        public var v: [Float]
        public init(stepCount: Int, m: [Float], v: [Float]) { self.stepCount = stepCount; self.m = m; self.v = v }
    }

    public var state: State { State(stepCount: stepCount, m: m, v: v) }

    /// Restores saved state; the moment buffers must match the parameter count.
    public func restore(_ s: State) throws {
        guard s.m.count == m.count, s.v.count == v.count else {
            throw ModelError.parameterCountMismatch(expected: m.count, got: s.m.count == m.count ? s.v.count : s.m.count)
        }
        m = s.m; v = s.v; stepCount = s.stepCount
    }
}

/// Scales `gradients` in place so their global L2 norm is at most `maxNorm`; returns the norm
/// before clipping (accumulated in double precision). A non-finite norm leaves them unchanged.
@discardableResult
public func clipGradNorm(_ gradients: UnsafeMutableBufferPointer<Float>, maxNorm: Float) -> Float {
    guard let g = gradients.baseAddress else { return 0 }
    let n = gradients.count
    var ss: Double = 0
    // Eight-lane float partial sums over blocks of 1024, accumulated in double.
    for start in stride(from: 0, to: n, by: 1024) {
        let count = min(1024, n - start)
        ss += Double(dotProduct(g + start, g + start, count))
    }
    let norm = Float(ss.squareRoot())
    if norm.isFinite && norm > maxNorm && maxNorm > 0 {
        scaleInPlace(g, n, maxNorm / (norm + 1e-6))
    }
    return norm
}

/// Learning rate as a function of the step: linear warmup from 0 to `peak` over `warmupSteps`,
/// then constant, linear decay or cosine decay to `peak · minFraction` at `totalSteps`.
public struct LRSchedule: Codable, Equatable, Sendable {
    public enum Decay: String, Codable, Sendable, CaseIterable { case constant, linear, cosine }
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay
    public var minFraction: Float

    public init(peak: Float, warmupSteps: Int = 0, totalSteps: Int, decay: Decay = .cosine, minFraction: Float = 0) {
        self.peak = peak; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
        self.decay = decay; self.minFraction = minFraction
    }

    /// Learning rate for the update with 0-based index `step`.
    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let t = min(1, Float(step - warmupSteps) / Float(span))
        let floor = peak * minFraction
        switch decay {
        case .constant: return peak
        case .linear: return floor + (peak - floor) * (1 - t)
        case .cosine: return floor + (peak - floor) * 0.5 * (1 + Float(cos(Double.pi * Double(t))))
        }
    }
}
