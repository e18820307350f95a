import XCTest
import JSON

final class JSONValueTests: XCTestCase {
    func testStrictAccessorsMatchOneCaseEach() {
        let v: JSONValue = ["s": "x", "n": 2.5, "b": true, "a": [1], "o": ["k": nil], "z": nil]
        XCTAssertEqual(v["s"]?.stringValue, "x")
        XCTAssertEqual(v["n"]?.doubleValue, 2.5)
        XCTAssertEqual(v["b"]?.boolValue, true)
        XCTAssertEqual(v["a"]?.arrayValue, [1])
        XCTAssertEqual(v["o"]?.objectValue?.keys, ["k"])
        XCTAssertEqual(v["z"]?.isNull, true)
        XCTAssertNil(v["missing"])
        XCTAssertNil(v["s"]?["k"])  // members only of objects
        XCTAssertNil(v["n"]?.stringValue)
        XCTAssertNil(v["s"]?.doubleValue)
        XCTAssertNil(v["b"]?.doubleValue)
        XCTAssertEqual([v["s"], v["n"], v["b"], v["a"], v["o"], v["z"]].map { $0!.typeName },
                       ["string", "number", "boolean", "array", "object", "null"])
    }

    func testIntValueIsAWholeCountOrStep() {
        XCTAssertEqual(JSONValue.number(12).intValue, 12)
        XCTAssertEqual(JSONValue.number(-3.9).intValue, -3)  // truncated toward zero
        XCTAssertNil(JSONValue.number(1e300).intValue)
        XCTAssertNil(JSONValue.number(.nan).intValue)
        XCTAssertNil(JSONValue.string("12").intValue)
    }

    func testNumericValueReadsRunFilesLeniently() {
        XCTAssertEqual(JSONValue.number(0.5).numericValue, 0.5)
        XCTAssertEqual(JSONValue.bool(true).numericValue, 1)
        XCTAssertEqual(JSONValue.bool(false).numericValue, 0)
        XCTAssertEqual(JSONValue.string("0.25").numericValue, 0.25)
        XCTAssertTrue(JSONValue.string("NaN").numericValue!.isNaN)
        XCTAssertNil(JSONValue.string("x").numericValue)
        XCTAssertNil(JSONValue.null.numericValue)
        XCTAssertNil(JSONValue.array([1]).numericValue)
    }

    func testObjectsKeepOrderAndCompareRegardlessOfIt() {
        var o: JSONObject = ["b": 1, "a": 2]
        o["c"] = 3
        o["b"] = nil
        o["a"] = 4
        XCTAssertEqual(o.keys, ["a", "c"])
        XCTAssertEqual(o.map(\.value), [4, 3])
        XCTAssertEqual(JSONValue.object(o), ["c": 3, "a": 4])
        XCTAssertNotEqual(JSONValue.object(o), ["c": 3, "a": 5])
        XCTAssertNotEqual(JSONValue.object(o), ["c": 3])
        var big = JSONObject()
        for i in 0..<40 { big["k\(i)"] = .number(Double(i)) }  // past the index threshold
        big["k7"] = nil
        XCTAssertEqual(big.count, 39)
        XCTAssertEqual(big["k8"], 8)
        XCTAssertNil(big["k7"])
        XCTAssertEqual(big.keys.first, "k0")
    }
}
