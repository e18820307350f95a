import XCTest
@testable import RewardServer

final class JSONValueTests: XCTestCase {
    func testParsesAndEncodesRoundTrip() throws {
        let text = #"{"id":"a\"b","n":42,"x":-1.5e3,"ok":true,"none":null,"list":[1,2.5,"\u00e9\ud83d\ude00"],"nested":{"k":[]}}"#
        let value = try JSONValue.parse(text)
        XCTAssertEqual(value["id"], "a\"b")
        XCTAssertEqual(value["n"], .int(42))
        XCTAssertEqual(value["x"], .double(-1500))
        XCTAssertEqual(value["list"]?.array?[2], .string("é😀"))
        XCTAssertEqual(try JSONValue.parse(value.jsonString), value)
        XCTAssertEqual(JSONValue.array([.double(.nan), .double(1), .double(0.25), .string("a\nb")]).jsonString,
                       #"[null,1.0,0.25,"a\nb"]"#)
    }

    func testSyntaxErrorsSayWhere() {
        func failure(_ text: String) -> JSONSyntaxError? {
            do { _ = try JSONValue.parse(text); return nil } catch { return error as? JSONSyntaxError }
        }
        let e1 = failure("[\n  {\"id\": 1,}\n]")
        XCTAssertEqual(e1?.line, 2)
        XCTAssertEqual(e1?.column, 12)
        XCTAssertTrue(e1?.reason.contains("expected a string key") ?? false, "\(String(describing: e1))")
        XCTAssertEqual(failure("[1, 2")?.reason, "unexpected end of input, expected ',' or ']'")
        XCTAssertEqual(failure("{\"a\": tru}")?.column, 7)
        XCTAssertNotNil(failure("[1] x"))
        XCTAssertNotNil(failure("01"))
        XCTAssertNotNil(failure("\"abc"))
        XCTAssertNotNil(failure(String(repeating: "[", count: 600) + String(repeating: "]", count: 600)))
    }
}
