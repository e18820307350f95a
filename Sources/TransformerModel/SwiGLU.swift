import Foundation

// SwiGLU MLP activation: act = silu(gate) ⊙ up, silu(g) = g · σ(g).

/// Forward. `gateUp [N, 2F]` holds gate in columns `0..<F` and up in `F..<2F`
/// (one fused matmul over the contiguous gate_proj/up_proj weights); `out [N, F]`.
func swigluForward(out: FloatPtr, gateUp: ConstFloatPtr, N: Int, F: Int) {
    for n in 0..<N {
        let g = gateUp + n * 2 * F, u = g + F, y = out + n * F
        var i = 0
        while i + 8 <= F {
            let gv = load8(g, i)
            store8(y, i, gv / (1 + fastExp(-gv)) * load8(u, i))
            i += 8
        }
        while i < F { y[i] = g[i] / (1 + fastExp(-g[i])) * u[i]; i += 1 }
    }
}

/// Backward. `dgateUp [N, 2F]` is assigned (it may be `gateUp` itself: each element is read before it is written):
/// `dup = dout ⊙ silu(g)`, `dgate = dout ⊙ up ⊙ σ(g) · (1 + g · (1 − σ(g)))`.
func swigluBackward(dgateUp: FloatPtr, dout: ConstFloatPtr, gateUp: UnsafePointer<Float>, N: Int, F: Int) {
    for n in 0..<N {
        let g = gateUp + n * 2 * F, u = g + F, dy = dout + n * F
        let dg = dgateUp + n * 2 * F, du = dg + F
        var i = 0
        let one = F8(repeating: 1)
        while i + 8 <= F {
            let gv = load8(g, i), uv = load8(u, i), dyv = load8(dy, i), sig = one / (one + fastExp(-gv))
            store8(du, i, dyv * gv * sig)
            store8(dg, i, dyv * uv * sig * (one + gv * (one - sig)))
            i += 8
        }
        while i < F {
            let gi = g[i], ui = u[i], sig = 1 / (1 + fastExp(-gi))
            du[i] = dy[i] * gi * sig
            dg[i] = dy[i] * ui * sig * (1 + gi * (1 - sig))
            i += 1
        }
    }
}
