import XCTest
@testable import GraderRuntime

final class SampleReadTests: XCTestCase {
    func testSamplesFromJSONListAndJSONL() throws {
        let list = try Sample.read(Array(#"[{"id": 7, "messages": []}, {"messages": []}]"#.utf8), source: "in.json")
        XCTAssertEqual(list.map(\.id), ["7", "1"])
        let jsonl = try Sample.read(Array("{\"id\":\"a\",\"metadata\":{\"reference_answer\":5}}\n\n{\"id\":\"b\"}\n".utf8), source: "in.jsonl")
        XCTAssertEqual(jsonl.map(\.id), ["a", "b"])
        XCTAssertEqual(jsonl[0].referenceAnswer, .number(5))
        XCTAssertThrowsError(try Sample.read(Array("{\"id\":\"a\"}\n{bad\n".utf8), source: "in.jsonl")) {
            XCTAssertTrue("\($0)".hasPrefix("in.jsonl:2:"), "\($0)")
        }
        XCTAssertThrowsError(try Sample.read(Array("{\"id\":\"a\"}\n{\"id\":\"a\"}".utf8), source: "x")) {
            XCTAssertTrue("\($0)".contains("duplicate sample id \"a\""), "\($0)")
        }
    }
}
