import Foundation

// Output head + log-softmax over the vocabulary, for the rows that predict a scored token.

/// Forward for one row of `logits [V]`: returns `(log p[target], entropy)` with
/// `log p = z − logsumexp(z)` and `entropy = −Σ p log p`.
@inline(__always)
func logSoftmaxRow(_ z: ConstFloatPtr, V: Int, target: Int) -> (logp: Float, entropy: Float) {
    let mx = maxElement(z, V)
    var sum8 = F8(), weighted8 = F8(), v = 0
    let m8 = F8(repeating: mx)
    while v + 8 <= V {
        let d = load8(z, v) - m8, e = fastExp(d)
        sum8 += e; weighted8 += e * d
        v += 8
    }
    var sum = sum8.sum(), weighted = weighted8.sum()
    while v < V { let d = z[v] - mx, e = fastExp(d); sum += e; weighted += e * d; v += 1 }
    let logZ = logf(sum)
    return (z[target] - mx - logZ, logZ - weighted / sum)
}

/// Backward for one row, in place: `z [V]` (logits) becomes
/// `dz = dlogp · (onehot(target) − softmax(z))`. The entropy is a metric and gets no gradient.
@inline(__always)
func logSoftmaxRowBackward(_ z: FloatPtr, V: Int, target: Int, dlogp: Float) {
    let mx = maxElement(z, V)
    let sum = expShiftInPlace(z, V, shift: mx)
    scaleInPlace(z, V, -dlogp / sum)
    z[target] += dlogp
}
