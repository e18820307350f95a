import XCTest
@testable import TransformerModel

/// A float buffer for kernel tests, filled with N(0, std²) + mean.
final class TestBuffer {
    let buf: UnsafeMutableBufferPointer<Float>
    init(_ count: Int, _ rng: inout RandomGenerator, std: Float = 1, mean: Float = 0) {
        buf = .allocate(capacity: count)
        for i in 0..<count { buf[i] = mean + std * rng.nextGaussian() }
    }
    init(zeros count: Int) { buf = .allocate(capacity: count); buf.initialize(repeating: 0) }
    deinit { buf.deallocate() }
    var p: UnsafeMutablePointer<Float> { buf.baseAddress! }
    var count: Int { buf.count }
    func zero() { for i in buf.indices { buf[i] = 0 } }
    var array: [Float] { Array(buf) }
}

/// Fourth-order central differences `(−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)) / 12h` of `loss`
/// with respect to `buf[indices]`; the loss is accumulated in double precision by the caller.
func numericGradient(_ buf: UnsafeMutableBufferPointer<Float>, indices: Range<Int>? = nil, h: Float = 3e-3,
                     _ loss: () -> Double) -> [Double] {
    (indices ?? buf.indices).map { i in
        let x = buf[i]
        buf[i] = x + 2 * h; let f2 = loss()
        buf[i] = x + h; let f1 = loss()
        buf[i] = x - h; let m1 = loss()
        buf[i] = x - 2 * h; let m2 = loss()
        buf[i] = x
        return (-f2 + 8 * f1 - 8 * m1 + m2) / (12 * Double(h))
    }
}

/// `‖a − n‖ / max(‖a‖, ‖n‖)` over a tensor (in double precision).
func relativeError<A: Collection>(_ analytic: A, _ numeric: [Double]) -> Double where A.Element == Float {
    var diff = 0.0, na = 0.0, nn = 0.0
    for (a, n) in zip(analytic, numeric) {
        diff += (Double(a) - n) * (Double(a) - n); na += Double(a) * Double(a); nn += n * n
    }
    return diff.squareRoot() / max(na.squareRoot(), nn.squareRoot(), 1e-12)
}

/// `Σ w[i] · y[i]` in double precision: a loss whose gradient with respect to `y` is `w`.
func weightedSum(_ y: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ n: Int) -> Double {
    var s = 0.0
    for i in 0..<n { s += Double(y[i]) * Double(w[i]) }
    return s
}

func assertGradient<A: Collection>(_ name: String, _ analytic: A, _ numeric: [Double], tolerance: Double = 1e-3,
                                   file: StaticString = #filePath, line: UInt = #line) where A.Element == Float {
    let err = relativeError(analytic, numeric)
    XCTAssertLessThan(err, tolerance, "\(name): relative error \(err)", file: file, line: line)
    XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 1e-6, "\(name): gradient is identically zero", file: file, line: line)
}

/// Checks `analytic` against finite differences at steps 1e-2, 3e-3 and 1e-3, keeping the best:
/// fp32 forward passes trade truncation error (large steps) against rounding noise (small steps),
/// and a wrong gradient is wrong at every step.
func assertGradientAnyStep<A: Collection>(_ name: String, _ analytic: A, _ buf: UnsafeMutableBufferPointer<Float>,
                                          indices: Range<Int>, tolerance: Double = 1e-3,
                                          _ loss: () -> Double, file: StaticString = #filePath, line: UInt = #line)
where A.Element == Float {
    var best = (err: Double.infinity, numeric: [Double]())
    for h: Float in [1e-2, 3e-3, 1e-3] {
        let numeric = numericGradient(buf, indices: indices, h: h, loss)
        let err = relativeError(analytic, numeric)
        if err < best.err { best = (err, numeric) }
        if err < tolerance { break }
    }
    assertGradient(name, analytic, best.numeric, tolerance: tolerance, file: file, line: line)
}

func assertClose(_ a: [Float], _ b: [Float], accuracy: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, "\(a) vs \(b)", file: file, line: line) }
}
