import Foundation

// RMSNorm (Llama / Qwen): y = x / sqrt(mean(x²) + eps) · w.

/// Forward. `out [N, C] = inp [N, C] · rstd[n] · weight [C]`, `rstd [N] = 1 / sqrt(mean(inp²) + eps)`.
func rmsnormForward(out: FloatPtr, rstd: FloatPtr, inp: ConstFloatPtr, weight: ConstFloatPtr,
                    N: Int, C: Int, eps: Float) {
    for n in 0..<N {
        let x = inp + n * C, y = out + n * C
        let r = 1 / (dotProduct(x, x, C) / Float(C) + eps).squareRoot()
        rstd[n] = r
        let rv = F8(repeating: r)
        var i = 0
        while i + 8 <= C { store8(y, i, load8(x, i) * rv * load8(weight, i)); i += 8 }
        while i < C { y[i] = x[i] * r * weight[i]; i += 1 }
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
        let rv = F8(repeating: r)
        var dot8 = F8(), i = 0
        while i + 8 <= C {
            let dyx = load8(dy, i) * load8(x, i) * rv
            dot8 += dyx * load8(weight, i)
            store8(dweight, i, load8(dweight, i) + dyx)
            i += 8
        }
        var dot = dot8.sum()
        while i < C { let dyx = dy[i] * x[i] * r; dot += dyx * weight[i]; dweight[i] += dyx; i += 1 }
        // dx = r · (dy ⊙ w) − (r² · mean(g ⊙ x̂)) · x
        let k = r * r * dot / Float(C), kv = F8(repeating: k)
        i = 0
        while i + 8 <= C {
            let g = rv * load8(dy, i) * load8(weight, i) - kv * load8(x, i)
            store8(dx, i, overwrite ? g : load8(dx, i) + g)
            i += 8
        }
        while i < C { let g = r * dy[i] * weight[i] - k * x[i]; dx[i] = overwrite ? g : dx[i] + g; i += 1 }
    }
}
