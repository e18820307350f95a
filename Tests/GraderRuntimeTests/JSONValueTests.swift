import XCTest
@testable import GraderRuntime

final class JSONValueTests: XCTestCase {
    func testRoundTripKeepsKeyOrderAndEscapes() throws {
        let text = #"{"z":1,"a":[true,null,-2.5,"q\"\n\u00e9\ud83d\ude00"],"m":{"k":"v"}}"#
        let v = try JSONValue.parse(text)
        XCTAssertEqual(v.objectValue?.keys, ["z", "a", "m"])
        XCTAssertEqual(v["a"]?.arrayValue?[3], .string("q\"\né😀"))
        XCTAssertEqual(try JSONValue.parse(v.jsonString), v)
    }

    func testHostileInputIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try JSONValue.parse(deep)) { XCTAssertTrue("\($0)".contains("nested deeper"), "\($0)") }
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xFF, 0xFE, 0x22])) { XCTAssertTrue("\($0)".contains("invalid UTF-8"), "\($0)") }
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0x61, 0x00, 0x22])) { XCTAssertTrue("\($0)".contains("NUL"), "\($0)") }
        XCTAssertThrowsError(try JSONValue.parse("[1, 2")) { XCTAssertTrue("\($0)".contains("end of input"), "\($0)") }
        XCTAssertThrowsError(try JSONValue.parse("{\"a\": 1}\n{\"b\": 2}")) { XCTAssertTrue("\($0)".contains("line 2"), "\($0)") }
    }

    func testNonFiniteTokensOnlyWhenAllowed() throws {
        XCTAssertThrowsError(try JSONValue.parse("NaN"))
        XCTAssertTrue(try JSONValue.parse("[NaN]", allowNonFinite: true).arrayValue![0].doubleValue!.isNaN)
        XCTAssertEqual(try JSONValue.parse("-Infinity", allowNonFinite: true), .number(-.infinity))
        XCTAssertEqual(JSONValue.number(.nan).jsonString, "null")
        XCTAssertEqual(JSONValue.number(3).jsonString, "3")
        XCTAssertEqual(JSONValue.number(0.25).jsonString, "0.25")
    }

    func testSortedAndPrettyTextForRunFiles() throws {
        let v = try JSONValue.parse(#"{"z":[],"a":{"y":2.5,"b":[1,null]},"m":{}}"#)
        XCTAssertEqual(v.jsonString(sortedKeys: true), #"{"a":{"b":[1,null],"y":2.5},"m":{},"z":[]}"#)
        XCTAssertEqual(v.jsonString(sortedKeys: true, pretty: true),
                       "{\n  \"a\" : {\n    \"b\" : [\n      1,\n      null\n    ],\n    \"y\" : 2.5\n  },\n  \"m\" : {\n\n  },\n  \"z\" : [\n\n  ]\n}")
        XCTAssertEqual(JSONValue.num(.nan), .null)
        struct Row: Encodable { var step = 3; var loss: Double? = 0.5 }
        XCTAssertEqual(JSONValue.from(Row()), ["step": 3, "loss": 0.5])
    }

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
