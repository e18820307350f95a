// Linear layer in Hugging Face layout: weight [out, in] row-major, y = x · Wᵀ + b.

/// Forward. `out [N, O] = beta · out + inp [N, I] · weight [O, I]ᵀ + bias [O]`.
/// `beta = 1` fuses a residual add when `out` already holds the residual.
func linearForward(out: FloatPtr, ldOut: Int, inp: ConstFloatPtr, ldInp: Int,
                   weight: ConstFloatPtr, bias: ConstFloatPtr?, N: Int, I: Int, O: Int, beta: Float = 0) {
    gemm(transB: true, m: N, n: O, k: I, a: inp, lda: ldInp, b: weight, ldb: I, beta: beta, c: out, ldc: ldOut)
    if let bias { addBias(out: out, ldOut: ldOut, bias: bias, N: N, O: O) }
}

/// `out[n, o] += bias[o]` for each of the `N` rows (stride `ldOut`).
func addBias(out: FloatPtr, ldOut: Int, bias: ConstFloatPtr, N: Int, O: Int) {
    for n in 0..<N {
        let row = out + n * ldOut
        for o in 0..<O { row[o] += bias[o] }
    }
}

/// Backward.
/// `dinp [N, I] = dinpBeta · dinp + dout [N, O] · weight [O, I]`,
/// `dweight [O, I] += dout [N, O]ᵀ · inp [N, I]`, `dbias [O] += Σₙ dout[n]`.
func linearBackward(dinp: FloatPtr?, ldDinp: Int, dinpBeta: Float, dweight: FloatPtr, dbias: FloatPtr?,
                    dout: ConstFloatPtr, ldDout: Int, inp: ConstFloatPtr, ldInp: Int,
                    weight: ConstFloatPtr, N: Int, I: Int, O: Int) {
    if let dinp {
        gemm(m: N, n: I, k: O, a: dout, lda: ldDout, b: weight, ldb: I, beta: dinpBeta, c: dinp, ldc: ldDinp)
    }
    gemm(transA: true, m: O, n: I, k: N, a: dout, lda: ldDout, b: inp, ldb: ldInp, beta: 1, c: dweight, ldc: I)
    if let dbias {
        for n in 0..<N {
            let row = dout + n * ldDout
            for o in 0..<O { dbias[o] += row[o] }
        }
    }
}
