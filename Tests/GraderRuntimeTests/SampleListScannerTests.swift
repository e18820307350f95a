import XCTest
@testable import GraderRuntime
import JSON

/// The server's tree-free split of a batch body must give exactly the samples the general path gives,
/// and must refuse (return nil) whatever it cannot spell the same way, so the general path words errors.
final class SampleListScannerTests: XCTestCase {
    private func scan(_ text: String) -> [Sample]? {
        Array(text.utf8).withUnsafeBytes { Sample.scanList($0) }
    }

    private func scan(_ bytes: [UInt8]) -> [Sample]? {
        bytes.withUnsafeBytes { Sample.scanList($0) }
    }

    private func general(_ text: String) throws -> [Sample] {
        let list = try XCTUnwrap(JSONValue.parse(text).arrayValue)
        return try list.enumerated().map { i, v in Sample(record: try XCTUnwrap(v.objectValue), defaultID: String(i)) }
    }

    func testCommonBodiesMatchTheGeneralPathByteForByte() throws {
        let bodies = [
            #"[]"#,
            #"[{"id":"a","messages":[{"role":"user","content":"What is 2 + 2?"},{"role":"assistant","content":"4"}],"reference_answer":"4"}]"#,
            """
            [
              {"id": "x-1", "messages": [{"role": "assistant", "content": "say \\"hi\\"\\n\\tthen\\\\stop"}],
               "metadata": {"reference_answer": 12, "tags": ["a", "b"], "n": -3, "ok": true, "none": null, "z": 0}},
              { "id" : "x-2" , "completion" : "héllo → 世界 🎉", "nested": [[1, [2, {}]], []] }
            ]
            """,
        ]
        for body in bodies {
            let fast = try XCTUnwrap(scan(body), body)
            let slow = try general(body)
            XCTAssertEqual(fast.map(\.id), slow.map(\.id))
            XCTAssertEqual(fast.map(\.encoded), slow.map(\.encoded), body)
            XCTAssertEqual(fast.map(\.record), slow.map(\.record), body)
            XCTAssertEqual(fast, slow)
        }
    }

    func testRefusesWhatItCannotSpellLikeTheWriter() {
        let refused = [
            "", "   ", "{}", "[1]", #"["a"]"#, "[", #"[{"id":"a"},]"#, #"[{"id":"a"}] x"#, #"[{"id":"a""#,
            #"[{"id":1}]"#, #"[{"x":1}]"#, #"[{"id":"a"},{"id":"a"}]"#, #"[{"id":"a","k":1,"k":2}]"#,
            #"[{"id":"a\u0062"}]"#, #"[{"id":"a\nb"}]"#, #"[{"id":"a","s":"\u00e9"}]"#, #"[{"id":"a","s":"\/"}]"#,
            #"[{"id":"a","n":1.5}]"#, #"[{"id":"a","n":1e3}]"#, #"[{"id":"a","n":-0}]"#, #"[{"id":"a","n":012}]"#,
            #"[{"id":"a","n":1234567890123456}]"#, #"[{"id":"a","n":NaN}]"#, "[{\"id\":\"a\",\"s\":\"tab\tin\"}]",
        ]
        for body in refused { XCTAssertNil(scan(body), body) }
        // Invalid UTF-8 inside a string.
        XCTAssertNil(scan(Array(#"[{"id":"a","s":""#.utf8) + [0xC3, 0x28] + Array(#""}]"#.utf8)))
        // Nesting past the parser's limit.
        let deep = #"[{"id":"a","d":"# + String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth) + "}]"
        XCTAssertNil(scan(deep))
    }
}
