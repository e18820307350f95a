// Eight-lane loops for the element-wise kernels. They use plain SSE multiply/add (the default
// x86-64 target has no FMA), so they build and run on any x86-64 or arm64 CPU. Each helper
// handles a tail shorter than eight lanes with the same arithmetic, lane by lane.

typealias F8 = SIMD8<Float>

@inline(__always) func load8(_ p: ConstFloatPtr, _ i: Int) -> F8 {
    UnsafeRawPointer(p).loadUnaligned(fromByteOffset: i * 4, as: F8.self)
}

@inline(__always) func store8(_ p: FloatPtr, _ i: Int, _ v: F8) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, toByteOffset: i * 4, as: F8.self)
}

/// Lane-wise max / min as compare + select (the standard library's `pointwiseMax` is not
/// always inlined).
@inline(__always) func lanewiseMax(_ a: F8, _ b: F8) -> F8 { a.replacing(with: b, where: a .< b) }
@inline(__always) func lanewiseMin(_ a: F8, _ b: F8) -> F8 { a.replacing(with: b, where: b .< a) }

/// eˣ per lane (Cephes-style: 2ⁿ · e^r with |r| ≤ ln2/2 and a degree-6 polynomial), relative
/// error about 2e-7. Inputs are clamped to [−87, 88], so e^(−∞) gives ~1e-38 rather than 0.
@inline(__always) func fastExp(_ x: F8) -> F8 {
    let x = lanewiseMin(lanewiseMax(x, F8(repeating: -87)), F8(repeating: 88))
    let magic = F8(repeating: 12_582_912)   // 1.5·2²³: adding it rounds to an integer
    let t = x * F8(repeating: 1.442_695_04) + magic
    let n = t - magic
    var r = x - n * F8(repeating: 0.693_359_375)
    r = r - n * F8(repeating: -2.121_944_4e-4)
    var p = F8(repeating: 1.987_569_15e-4)
    p = p * r + F8(repeating: 1.398_199_95e-3)
    p = p * r + F8(repeating: 8.333_451_9e-3)
    p = p * r + F8(repeating: 4.166_579_59e-2)
    p = p * r + F8(repeating: 1.666_666_55e-1)
    p = p * r + F8(repeating: 5.000_000_12e-1)
    let y = p * r * r + r + F8(repeating: 1)
    let bits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    let scale = unsafeBitCast((bits &+ 127) &<< 23, to: F8.self)
    return y * scale
}

/// eˣ for one value with the same arithmetic as `fastExp`.
@inline(__always) func fastExp(_ x: Float) -> Float { fastExp(F8(repeating: x))[0] }

/// Applies `f` to `x[0..<n]` eight lanes at a time, the tail through a padded vector.
@inline(__always) func map8(_ out: FloatPtr, _ x: ConstFloatPtr, _ n: Int, _ f: (F8) -> F8) {
    var i = 0
    while i + 8 <= n { store8(out, i, f(load8(x, i))); i += 8 }
    if i < n {
        var v = F8()
        for j in 0..<(n - i) { v[j] = x[i + j] }
        let r = f(v)
        for j in 0..<(n - i) { out[i + j] = r[j] }
    }
}

/// `max(x[0..<n])`.
@inline(__always) func maxElement(_ x: ConstFloatPtr, _ n: Int) -> Float {
    var m = F8(repeating: -.infinity), i = 0
    while i + 8 <= n { m = lanewiseMax(m, load8(x, i)); i += 8 }
    var r = m.max()
    while i < n { r = max(r, x[i]); i += 1 }
    return r
}

/// `x[i] ← exp(x[i] − shift)` for `i < n`; returns `Σ x[i]` afterwards.
@inline(__always) func expShiftInPlace(_ x: FloatPtr, _ n: Int, shift: Float) -> Float {
    var sum = F8(), i = 0
    let s = F8(repeating: shift)
    while i + 8 <= n { let e = fastExp(load8(x, i) - s); store8(x, i, e); sum += e; i += 8 }
    if i < n {
        // The tail through one padded vector (padding lanes give exp(−87) ≈ 1e-38, not summed).
        var v = F8(repeating: -.infinity)
        for j in 0..<(n - i) { v[j] = x[i + j] }
        let e = fastExp(v - s)
        for j in 0..<(n - i) { x[i + j] = e[j]; sum[j] += e[j] }
    }
    return sum.sum()
}

/// `x[i] *= s` for `i < n`.
@inline(__always) func scaleInPlace(_ x: FloatPtr, _ n: Int, _ s: Float) {
    var i = 0
    let v = F8(repeating: s)
    while i + 8 <= n { store8(x, i, load8(x, i) * v); i += 8 }
    while i < n { x[i] *= s; i += 1 }
}

/// `x[i] += y[i]` for `i < n`.
@inline(__always) func addInPlace(_ x: FloatPtr, _ y: ConstFloatPtr, _ n: Int) {
    var i = 0
    while i + 8 <= n { store8(x, i, load8(x, i) + load8(y, i)); i += 8 }
    while i < n { x[i] += y[i]; i += 1 }
}

/// `Σᵢ a[i]·b[i]`.
@inline(__always) func dotProduct(_ a: ConstFloatPtr, _ b: ConstFloatPtr, _ n: Int) -> Float {
    var acc = F8(), i = 0
    while i + 8 <= n { acc += load8(a, i) * load8(b, i); i += 8 }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

