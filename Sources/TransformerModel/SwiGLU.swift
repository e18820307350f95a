import Foundation

// SwiGLU MLP activation: act = silu(gate) ⊙ up, silu(g) = g · σ(g).

/// Forward. `gateUp [N, 2F]` holds gate in columns `0..<F` and up in `F..<2F`
/// (one fused matmul over the contiguous gate_proj/up_proj weights); `out [N, F]`.
func swigluForward(out: FloatPtr, gateUp: ConstFloatPtr, N: Int, F: Int) {
    for n in 0..<N {
        let g = gateUp + n * 2 * F, u = g + F, y = out + n * F
        for i in 0..<F {
            let sig = 1 / (1 + expf(-g[i]))
            y[i] = g[i] * sig * u[i]
        }
    }
}

/// Backward. `dgateUp [N, 2F]` is assigned:
/// `dup = dout ⊙ silu(g)`, `dgate = dout ⊙ up ⊙ σ(g) · (1 + g · (1 − σ(g)))`.
func swigluBackward(dgateUp: FloatPtr, dout: ConstFloatPtr, gateUp: ConstFloatPtr, N: Int, F: Int) {
    for n in 0..<N {
        let g = gateUp + n * 2 * F, u = g + F, dy = dout + n * F
        let dg = dgateUp + n * 2 * F, du = dg + F
        for i in 0..<F {
            let sig = 1 / (1 + expf(-g[i]))
            du[i] = dy[i] * g[i] * sig
            dg[i] = dy[i] * u[i] * sig * (1 + g[i] * (1 - sig))
        }
    }
}
