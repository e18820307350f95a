import Foundation

// SwiGLU MLP activation: act = silu(gate) ⊙ up, silu(g) = g · σ(g).

/// Forward. `gateUp [N, 2F]` holds gate in columns `0..<F` and up in `F..<2F`
/// (one fused matmul over the contiguous gate_proj/up_proj weights); `out [N, F]`.
/// `sigmoid [N, F]`, when given, receives σ(gate) for the backward pass.
func swigluForward(out: FloatPtr, sigmoid: FloatPtr? = nil, gateUp: ConstFloatPtr, N: Int, F: Int) {
    let one = F8(repeating: 1)
    for n in 0..<N {
        let g = gateUp + n * 2 * F, u = g + F, y = out + n * F, sg = sigmoid.map { $0 + n * F }
        var i = 0
        while i + 8 <= F {
            let gv = load8(g, i), sig = one / (one + fastExp(-gv))
            store8(y, i, gv * sig * load8(u, i))
            if let sg { store8(sg, i, sig) }
            i += 8
        }
        while i < F {
            let sig = 1 / (1 + fastExp(-g[i]))
            y[i] = g[i] * sig * u[i]
            sg?[i] = sig
            i += 1
        }
    }
}

/// Backward, with `sigmoid [N, F]` = σ(gate) saved by the forward. `dgateUp [N, 2F]` is assigned
/// (it may be `gateUp` itself: each element is read before it is written):
/// `dup = dout ⊙ g·σ(g)`, `dgate = dout ⊙ up ⊙ σ(g) · (1 + g · (1 − σ(g)))`.
func swigluBackward(dgateUp: FloatPtr, dout: ConstFloatPtr, gateUp: UnsafePointer<Float>, sigmoid: ConstFloatPtr,
                    N: Int, F: Int) {
    let one = F8(repeating: 1)
    for n in 0..<N {
        let g = gateUp + n * 2 * F, u = g + F, dy = dout + n * F, sg = sigmoid + n * F
        let dg = dgateUp + n * 2 * F, du = dg + F
        var i = 0
        while i + 8 <= F {
            let gv = load8(g, i), uv = load8(u, i), dyv = load8(dy, i), sig = load8(sg, i)
            store8(du, i, dyv * gv * sig)
            store8(dg, i, dyv * uv * sig * (one + gv * (one - sig)))
            i += 8
        }
        while i < F {
            let gi = g[i], ui = u[i], sig = sg[i]
            du[i] = dy[i] * gi * sig
            dg[i] = dy[i] * ui * sig * (1 + gi * (1 - sig))
            i += 1
        }
    }
}
