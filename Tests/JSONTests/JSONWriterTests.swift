import XCTest
import JSON

final class JSONWriterTests: XCTestCase {
    func testNumbersAndNonFiniteAsNull() {
        XCTAssertEqual(JSONValue.number(.nan).jsonString, "null")
        XCTAssertEqual(JSONValue.number(3).jsonString, "3")
        XCTAssertEqual(JSONValue.number(-0.0).jsonString, "0")
        XCTAssertEqual(JSONValue.number(0.25).jsonString, "0.25")
        XCTAssertEqual(JSONValue.number(1e20).jsonString, "1e+20")
        XCTAssertEqual(JSONValue.number(0.1 + 0.2).jsonString, "0.30000000000000004")
        XCTAssertEqual(JSONValue.num(.nan), .null)
        XCTAssertEqual(JSONValue.num(nil), .null)
        XCTAssertEqual(JSONValue.num(2), .number(2))
    }

    func testNonFiniteLiteralsForRunFilesRoundTrip() throws {
        let v: JSONValue = ["loss": .number(.nan), "kl": .number(.infinity), "lo": .number(-.infinity), "ok": 0.5, "list": [.number(.nan)]]
        let text = v.jsonString(sortedKeys: false, nonFinite: .literals)
        XCTAssertEqual(text, #"{"loss":NaN,"kl":Infinity,"lo":-Infinity,"ok":0.5,"list":[NaN]}"#)
        XCTAssertEqual(v.jsonString(sortedKeys: false), #"{"loss":null,"kl":null,"lo":null,"ok":0.5,"list":[null]}"#)
        let pretty = v.jsonString(sortedKeys: true, pretty: true, nonFinite: .literals)
        XCTAssertTrue(pretty.contains("\n  \"lo\" : -Infinity,\n  \"loss\" : NaN,\n"), pretty)
        let back = try JSONValue.parse(text, allowNonFinite: true)
        XCTAssertTrue(back["loss"]!.doubleValue!.isNaN)
        XCTAssertEqual(back["kl"], .number(.infinity))
        XCTAssertEqual(back["lo"], .number(-.infinity))
        XCTAssertThrowsError(try JSONValue.parse(text))  // strict readers still refuse it
    }

    func testSortedAndPrettyTextForRunFiles() throws {
        let v = try JSONValue.parse(#"{"z":[],"a":{"y":2.5,"b":[1,null]},"m":{}}"#)
        XCTAssertEqual(v.jsonString(sortedKeys: true), #"{"a":{"b":[1,null],"y":2.5},"m":{},"z":[]}"#)
        XCTAssertEqual(v.jsonString(sortedKeys: false), #"{"z":[],"a":{"y":2.5,"b":[1,null]},"m":{}}"#)
        XCTAssertEqual(v.jsonString(sortedKeys: true, pretty: true),
                       "{\n  \"a\" : {\n    \"b\" : [\n      1,\n      null\n    ],\n    \"y\" : 2.5\n  },\n  \"m\" : {\n\n  },\n  \"z\" : [\n\n  ]\n}")
    }

    func testStringEscapes() {
        XCTAssertEqual(JSONValue.string("a\"b\\c\nd\re\tf\u{1}g/é").jsonString, #""a\"b\\c\nd\re\tf\u0001g/é""#)
        XCTAssertEqual(JSONValue.string("\u{1F}").jsonString, #""\u001f""#)
        XCTAssertEqual(Array(JSONValue.string("plain").jsonBytes()), Array(#""plain""#.utf8))
    }

    func testEncodableValues() {
        struct Row: Encodable { var step = 3; var loss: Double? = 0.5 }
        XCTAssertEqual(JSONValue.from(Row()), ["step": 3, "loss": 0.5])
        XCTAssertEqual(JSONValue.from(Double.nan), .null)
    }
}
