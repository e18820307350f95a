import XCTest
@testable import TransformerModel

/// Which OpenBLAS kernels rft forces when OpenBLAS does not know the CPU (`rft` re-executes itself
/// with `OPENBLAS_CORETYPE`; see BLASCore).
final class BLASCoreTests: XCTestCase {
    let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    func testGenericFallbackOnAVX512GetsSkylakeX() {
        XCTAssertEqual(BLASCore.override(current: "Prescott", cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASCore.override(current: "Sandybridge", cpuFlags: avx512), "SkylakeX")
    }

    func testGenericFallbackOnAVX2GetsHaswell() {
        XCTAssertEqual(BLASCore.override(current: "Prescott", cpuFlags: ["avx", "avx2", "fma"]), "Haswell")
        // AVX-512 without BW/DQ/VL (Knights Landing) is not SkylakeX.
        XCTAssertEqual(BLASCore.override(current: "Nehalem", cpuFlags: ["avx2", "fma", "avx512f", "avx512cd"]), "Haswell")
    }

    func testKnownCoresAndOldCPUsAreLeftAlone() {
        for core in ["SkylakeX", "Cooperlake", "Haswell", "Zen"] {
            XCTAssertNil(BLASCore.override(current: core, cpuFlags: avx512), core)
        }
        XCTAssertNil(BLASCore.override(current: "Prescott", cpuFlags: ["sse3", "avx"]))
        XCTAssertNil(BLASCore.override(current: "Prescott", cpuFlags: []))
    }

    func testFlagsAreReadFromCpuinfo() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cpuinfo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: file) }
        try "processor\t: 0\nmodel\t\t: 207\nflags\t\t: fpu sse3 avx2 fma avx512f\n\nprocessor\t: 1\nflags\t\t: fpu\n"
            .write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(BLASCore.cpuFlags(cpuinfo: file.path), ["fpu", "sse3", "avx2", "fma", "avx512f"])
        XCTAssertEqual(BLASCore.cpuFlags(cpuinfo: "/nonexistent"), [])
        XCTAssertFalse(BLASCore.current.isEmpty)
    }
}
