// Token embedding: a row gather from weight [V, C].

/// Forward. `out [N, C] = weight[tokens[n]]`.
func embeddingForward(out: FloatPtr, tokens: UnsafePointer<Int32>, weight: ConstFloatPtr, N: Int, C: Int) {
    for n in 0..<N {
        (out + n * C).update(from: weight + Int(tokens[n]) * C, count: C)
    }
}

/// Backward. `dweight[tokens[n]] += dout[n]` for `dout [N, C]`.
func embeddingBackward(dweight: FloatPtr, tokens: UnsafePointer<Int32>, dout: ConstFloatPtr, N: Int, C: Int) {
    for n in 0..<N {
        let row = dweight + Int(tokens[n]) * C, d = dout + n * C
        for i in 0..<C { row[i] += d[i] }
    }
}
