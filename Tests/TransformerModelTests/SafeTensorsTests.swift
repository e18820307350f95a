import Foundation
import XCTest
@testable import TransformerModel

final class SafeTensorsTests: XCTestCase {
    func testWriteThenReadRoundTrips() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("t.safetensors")
        let a: [Float] = [1, -2, 3.5, .pi, 0, 6]
        let b: [Float] = [42]
        try a.withUnsafeBufferPointer { pa in
            try b.withUnsafeBufferPointer { pb in
                try SafeTensorsWriter.write([.init(name: "a.weight", shape: [2, 3], data: pa),
                                             .init(name: "b", shape: [1], data: pb)],
                                            metadata: ["format": "pt"], to: url)
            }
        }
        let raw = try Data(contentsOf: url)
        let headerLength = raw.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual((8 + headerLength) % 8, 0, "data section is 8-byte aligned")
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["t.safetensors"], "no temporary file left")
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(file.tensors["a.weight"]?.shape, [2, 3])
        XCTAssertEqual(try file.floats("a.weight"), a)
        XCTAssertEqual(try file.floats("b", shape: [1]), b)
    }

    func testWriteErrorsNameTheFile() throws {
        let url = URL(fileURLWithPath: "/nonexistent-dir/x.safetensors")
        let one: [Float] = [1]
        XCTAssertThrowsError(try one.withUnsafeBufferPointer {
            try SafeTensorsWriter.write([.init(name: "a", shape: [1], data: $0)], to: url)
        }) { error in
            guard case .writeFailed(let path, _)? = error as? ModelIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
        }
        XCTAssertThrowsError(try one.withUnsafeBufferPointer {
            try SafeTensorsWriter.write([.init(name: "a", shape: [2], data: $0)], to: url)
        }) { error in
            XCTAssertEqual(error as? ModelIOError, .shapeMismatch(path: url.path, tensor: "a", expected: [2], found: [1]))
        }
    }

    /// F16 and BF16 written by PyTorch's safetensors convert to the values PyTorch rounds to.
    func testReadsHalfPrecisionWrittenByPyTorch() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.url("dtypes.safetensors"))
        XCTAssertEqual(file.tensors["f16"]?.dtype, "F16")
        XCTAssertEqual(file.tensors["bf16"]?.dtype, "BF16")
        let f32 = try file.floats("f32", shape: [2, 4])
        let f16 = try file.floats("f16", shape: [2, 4])
        let bf16 = try file.floats("bf16", shape: [2, 4])
        XCTAssertEqual(f32, [0, 1, -2.5, 3.140625, 65504, 1e-7, -0.0, 6.1e-5])
        // Exactly representable values survive both conversions.
        XCTAssertEqual(Array(f16[0..<4]), Array(f32[0..<4]))
        XCTAssertEqual(Array(bf16[0..<4]), Array(f32[0..<4]))
        XCTAssertEqual(f16[4], 65504)                       // largest half
        XCTAssertEqual(f16[5], 1.1920929e-07)               // a half subnormal (2 * 2^-24)
        XCTAssertEqual(f16[7], 1023 * 0x1p-24)              // 6.1e-5 rounds to the largest subnormal
        XCTAssertEqual(bf16[4], 65536)                      // bf16 rounds 65504 up
        XCTAssertEqual(bf16[6].sign, .minus)
    }

    func testHalfConversionSpecialValues() {
        XCTAssertEqual(SafeTensorsFile.halfToFloat(0x3C00), 1)
        XCTAssertEqual(SafeTensorsFile.halfToFloat(0xC000), -2)
        XCTAssertEqual(SafeTensorsFile.halfToFloat(0x7C00), .infinity)
        XCTAssertTrue(SafeTensorsFile.halfToFloat(0x7E00).isNaN)
        XCTAssertEqual(SafeTensorsFile.halfToFloat(0x0001), 0x1p-24)
    }

    func testMalformedFilesGiveTypedErrors() throws {
        let dir = try temporaryDirectory(self)
        func file(_ bytes: [UInt8]) throws -> URL {
            let url = dir.appendingPathComponent("bad.safetensors")
            try Data(bytes).write(to: url)
            return url
        }
        func header(_ json: String, dataBytes: Int) -> [UInt8] {
            let h = Array(json.utf8)
            var n = UInt64(h.count)
            return withUnsafeBytes(of: &n) { Array($0) } + h + [UInt8](repeating: 0, count: dataBytes)
        }
        func expectMalformed(_ bytes: [UInt8], mentioning needle: String, line: UInt = #line) throws {
            let url = try file(bytes)
            XCTAssertThrowsError(try SafeTensorsFile(contentsOf: url), line: line) { error in
                guard case .malformed(let path, let detail)? = error as? ModelIOError else {
                    return XCTFail("\(error)", line: line)
                }
                XCTAssertEqual(path, url.path, line: line)
                XCTAssertTrue(detail.contains(needle), "\(detail)", line: line)
            }
        }
        try expectMalformed([1, 2, 3], mentioning: "shorter than")
        try expectMalformed([255, 0, 0, 0, 0, 0, 0, 0, 0], mentioning: "runs past")
        try expectMalformed(header("not json", dataBytes: 0), mentioning: "not a JSON object")
        try expectMalformed(header(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, dataBytes: 4),
                            mentioning: "'w' data_offsets [0, 8] run past")
        try expectMalformed(header(#"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, dataBytes: 8),
                            mentioning: "'w': F32 [3] needs 12 bytes")
        try expectMalformed(header(#"{"w": {"dtype": "F32", "shape": [2]}}"#, dataBytes: 8), mentioning: "'w' needs")

        let ok = try file(header(#"{"w": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}}"#, dataBytes: 8))
        let st = try SafeTensorsFile(contentsOf: ok)
        XCTAssertThrowsError(try st.floats("w")) { error in
            guard case .unsupported(_, let detail)? = error as? ModelIOError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("'w' has dtype I32"))
        }
        XCTAssertThrowsError(try st.floats("missing")) { error in
            XCTAssertEqual(error as? ModelIOError, .missingTensor(path: ok.path, tensor: "missing"))
        }
        XCTAssertThrowsError(try st.floats("w", shape: [1, 2])) { error in
            XCTAssertEqual(error as? ModelIOError, .shapeMismatch(path: ok.path, tensor: "w", expected: [1, 2], found: [2]))
        }
    }
}
