import Foundation

// RMSNorm (Llama / Qwen): y = x / sqrt(mean(x²) + eps) · w.

/// Forward. `out [N, C] = inp [N, C] · rstd[n] · weight [C]`, `rstd [N] = 1 / sqrt(mean(inp²) + eps)`.
func rmsnormForward(out: FloatPtr, rstd: FloatPtr, inp: ConstFloatPtr, weight: ConstFloatPtr,
                    N: Int, C: Int, eps: Float) {
    for n in 0..<N {
        let x = inp + n * C, y = out + n * C
        var ss: Float = 0
        for i in 0..<C { ss += x[i] * x[i] }
        let r = 1 / (ss / Float(C) + eps).squareRoot()
        rstd[n] = r
        for i in 0..<C { y[i] = x[i] * r * weight[i] }
    }
}

/// Backward. With `x̂ = inp · rstd` and `g = dout ⊙ weight`:
/// `dinp [N, C] += rstd · (g − x̂ · mean(g ⊙ x̂))`, `dweight [C] += Σₙ dout ⊙ x̂`.
/// With `overwrite`, `dinp` is assigned instead of accumulated.
func rmsnormBackward(dinp: FloatPtr, dweight: FloatPtr, dout: ConstFloatPtr, inp: ConstFloatPtr,
                     weight: ConstFloatPtr, rstd: ConstFloatPtr, N: Int, C: Int, overwrite: Bool = false) {
    for n in 0..<N {
        let x = inp + n * C, dy = dout + n * C, dx = dinp + n * C
        let r = rstd[n]
        var dot: Float = 0
        for i in 0..<C {
            let xh = x[i] * r
            dot += dy[i] * weight[i] * xh
            dweight[i] += dy[i] * xh
        }
        let m = dot / Float(C)
        if overwrite {
            for i in 0..<C { dx[i] = r * (dy[i] * weight[i] - x[i] * r * m) }
        } else {
            for i in 0..<C { dx[i] += r * (dy[i] * weight[i] - x[i] * r * m) }
        }
    }
}
