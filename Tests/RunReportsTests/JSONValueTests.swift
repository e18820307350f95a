import Foundation
import XCTest
@testable import RunReports

final class JSONValueTests: XCTestCase {
    func testParsesWhatPythonAndFoundationWrite() throws {
        let v = try JSONValue.parse(#" {"a": [1, -2.5e-3, true, null], "b": {"c": "x\"y\\n\u00e9\ud83d\ude00"}, "n": NaN, "i": -Infinity} "#)
        XCTAssertEqual(v["a"], .array([.number(1), .number(-0.0025), .bool(true), .null]))
        XCTAssertEqual(v["b"]?["c"]?.string, "x\"y\\né😀")
        XCTAssertTrue(v["n"]!.double!.isNaN)
        XCTAssertEqual(v["i"]?.double, -.infinity)
        XCTAssertEqual(v.members?.map(\.key), ["a", "b", "n", "i"])  // file order kept

        let object: [String: Any] = ["s": "tab\tquote\"<>", "arr": [1, 2.5, "z"], "nested": ["k": false]]
        let data = try JSONSerialization.data(withJSONObject: object)
        let parsed = try JSONValue.parse(String(decoding: data, as: UTF8.self))
        XCTAssertEqual(parsed["s"]?.string, "tab\tquote\"<>")
        XCTAssertEqual(parsed["nested"]?["k"], .bool(false))
        XCTAssertEqual(try JSONValue.parse(parsed.jsonText), parsed)  // serializer round-trips
    }

    func testMalformedInputNamesTheOffset() {
        for (text, offset) in [(#"{"a": 1"#, 7), (#"{"a" 1}"#, 5), ("[1, 2,]", 6), (#"{"a": tru}"#, 6), ("1 2", 2), (#""abc"#, 4)] {
            XCTAssertThrowsError(try JSONValue.parse(text), text) {
                XCTAssertEqual(($0 as? JSONParseError)?.offset, offset, "\(text): \($0)")
            }
        }
    }
}
