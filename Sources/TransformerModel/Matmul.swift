import CBLAS
import Foundation

typealias FloatPtr = UnsafeMutablePointer<Float>
typealias ConstFloatPtr = UnsafePointer<Float>

/// Row-major `C = alpha · op(A) · op(B) + beta · C` on OpenBLAS, single-threaded.
///
/// `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`; `transA` / `transB` say that the
/// stored matrix is the transpose (`A` stored `[k, m]`, `B` stored `[n, k]`).
@inline(__always)
func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
          a: ConstFloatPtr, lda: Int, b: ConstFloatPtr, ldb: Int,
          beta: Float, c: FloatPtr, ldc: Int) {
    if m == 0 || n == 0 { return }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// rft runs BLAS on one thread: the machine's two vCPUs share one core's FP units
/// (docs/PERFORMANCE.md), and the other vCPU serves graders.
let blasSingleThreaded: Void = { openblas_set_num_threads(1) }()

/// A 64-byte aligned float allocation, zeroed unless `zeroed` is false (for buffers every read
/// of which follows a write: the KV cache, the packed weights). Free with `free`.
func allocateFloats(_ count: Int, zeroed: Bool = true) -> FloatPtr {
    var raw: UnsafeMutableRawPointer?
    let bytes = max(count, 1) * MemoryLayout<Float>.stride
    guard posix_memalign(&raw, 64, bytes) == 0, let raw else { fatalError("out of memory allocating \(bytes) bytes") }
    if zeroed { memset(raw, 0, bytes) }
    return raw.bindMemory(to: Float.self, capacity: max(count, 1))
}

/// Measures single-threaded `sgemm` throughput on square `[size, size]` matrices:
/// the best of `repeats` runs, in GFLOP/s. The baseline for the model benchmarks.
/// Timed in this thread's CPU time, so time slices lost to other processes on a shared
/// machine do not count (contention for the core's FP units still does).
public func measureSgemmPeak(size: Int = 1024, repeats: Int = 5) -> Double {
    _ = blasSingleThreaded
    let a = allocateFloats(size * size), b = allocateFloats(size * size), c = allocateFloats(size * size)
    defer { free(a); free(b); free(c) }
    for i in 0..<(size * size) { a[i] = Float(i % 7) * 0.1; b[i] = Float(i % 5) * 0.1 }
    var best = Double.infinity
    for _ in 0..<repeats {
        let t0 = threadCPUSeconds()
        gemm(transB: true, m: size, n: size, k: size, a: a, lda: size, b: b, ldb: size, beta: 0, c: c, ldc: size)
        best = min(best, threadCPUSeconds() - t0)
    }
    return 2 * Double(size) * Double(size) * Double(size) / best / 1e9
}

/// CPU time consumed by the calling thread, in seconds.
public func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
