import Foundation

// Output head + log-softmax over the vocabulary, for the rows that predict a scored token.

/// Forward for one row of `logits [V]`: returns `(log p[target], entropy)` with
/// `log p = z − logsumexp(z)` and `entropy = −Σ p log p`.
@inline(__always)
func logSoftmaxRow(_ z: ConstFloatPtr, V: Int, target: Int) -> (logp: Float, entropy: Float) {
    var mx = -Float.infinity
    for v in 0..<V { mx = max(mx, z[v]) }
    var sum: Float = 0, weighted: Float = 0
    for v in 0..<V {
        let e = expf(z[v] - mx)
        sum += e
        weighted += e * (z[v] - mx)
    }
    let logZ = logf(sum)
    return (z[target] - mx - logZ, logZ - weighted / sum)
}

/// Backward for one row, in place: `z [V]` (logits) becomes
/// `dz = dlogp · (onehot(target) − softmax(z))`. The entropy is a metric and gets no gradient.
@inline(__always)
func logSoftmaxRowBackward(_ z: FloatPtr, V: Int, target: Int, dlogp: Float) {
    var mx = -Float.infinity
    for v in 0..<V { mx = max(mx, z[v]) }
    var sum: Float = 0
    for v in 0..<V { let e = expf(z[v] - mx); z[v] = e; sum += e }
    let scale = -dlogp / sum
    for v in 0..<V { z[v] *= scale }
    z[target] += dlogp
}
