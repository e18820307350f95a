import Foundation

/// Rotary position embedding tables in Hugging Face's convention (`rotate_half`, not interleaved):
/// for `i < headDim/2`, `inv_freq[i] = theta^(-2i/headDim)` and the pair `(x[i], x[i + headDim/2])`
/// is rotated by the angle `pos · inv_freq[i]`.
struct RoPETable {
    let half: Int
    /// `[maxSeqLen, headDim/2]`
    let cos: [Float]
    let sin: [Float]

    init(headDim: Int, maxSeqLen: Int, theta: Float) {
        half = headDim / 2
        // Hugging Face computes inv_freq and pos · inv_freq in fp32; mirror that.
        let invFreq = (0..<half).map { i in Float(1.0 / pow(Double(theta), Double(2 * i) / Double(headDim))) }
        var c = [Float](repeating: 0, count: maxSeqLen * half), s = c
        for p in 0..<maxSeqLen {
            for i in 0..<half {
                let angle = Float(p) * invFreq[i]
                c[p * half + i] = Float(Foundation.cos(Double(angle)))
                s[p * half + i] = Float(Foundation.sin(Double(angle)))
            }
        }
        cos = c; sin = s
    }
}

/// Forward, in place. `x [N, ld]` holds `heads` heads of `headDim` from column 0 of each row;
/// row `n` is at position `pos[n]`:
/// `x[i] ← x[i]·cos − x[i+h]·sin`, `x[i+h] ← x[i+h]·cos + x[i]·sin`.
func ropeForward(_ x: FloatPtr, ld: Int, N: Int, heads: Int, headDim: Int,
                 positions: UnsafePointer<Int32>, table: RoPETable) {
    ropeRotate(x, ld: ld, N: N, heads: heads, headDim: headDim, positions: positions, table: table, sinSign: 1)
}

/// Backward, in place: the transpose (inverse) rotation applied to the gradient,
/// `d[i] ← d[i]·cos + d[i+h]·sin`, `d[i+h] ← d[i+h]·cos − d[i]·sin`.
func ropeBackward(_ d: FloatPtr, ld: Int, N: Int, heads: Int, headDim: Int,
                  positions: UnsafePointer<Int32>, table: RoPETable) {
    ropeRotate(d, ld: ld, N: N, heads: heads, headDim: headDim, positions: positions, table: table, sinSign: -1)
}

/// The rotation of both: by +θ (`sinSign` 1, forward) or −θ (`sinSign` −1, its transpose).
private func ropeRotate(_ x: FloatPtr, ld: Int, N: Int, heads: Int, headDim: Int,
                        positions: UnsafePointer<Int32>, table: RoPETable, sinSign: Float) {
    let h = headDim / 2
    table.cos.withUnsafeBufferPointer { cosT in
        table.sin.withUnsafeBufferPointer { sinT in
            for n in 0..<N {
                let c = cosT.baseAddress! + Int(positions[n]) * h, s = sinT.baseAddress! + Int(positions[n]) * h
                for hd in 0..<heads {
                    let v = x + n * ld + hd * headDim
                    var i = 0
                    while i + 8 <= h {
                        let a = load8(v, i), b = load8(v, i + h), cv = load8(c, i), sv = load8(s, i) * sinSign
                        store8(v, i, a * cv - b * sv)
                        store8(v, i + h, b * cv + a * sv)
                        i += 8
                    }
                    while i < h {
                        let a = v[i], b = v[i + h], sv = s[i] * sinSign
                        v[i] = a * c[i] - b * sv
                        v[i + h] = b * c[i] + a * sv
                        i += 1
                    }
                }
            }
        }
    }
}
