import Foundation
import XCTest
import JSON

final class JSONParserTests: XCTestCase {
    func testRoundTripKeepsKeyOrderAndEscapes() throws {
        let text = #"{"z":1,"a":[true,null,-2.5,"q\"\n\u00e9\ud83d\ude00"],"m":{"k":"v"}}"#
        let v = try JSONValue.parse(text)
        XCTAssertEqual(v.objectValue?.keys, ["z", "a", "m"])
        XCTAssertEqual(v["a"]?.arrayValue?[3], .string("q\"\né😀"))
        XCTAssertEqual(try JSONValue.parse(v.jsonString), v)
    }

    func testParsesWhatPythonAndFoundationWrite() throws {
        let v = try JSONValue.parse(#" {"a": [1, -2.5e-3, true, null], "b": {"c": "x\"y\\n\u00e9\ud83d\ude00"}, "n": NaN, "i": -Infinity} "#,
                                    allowNonFinite: true)
        XCTAssertEqual(v["a"], .array([.number(1), .number(-0.0025), .bool(true), .null]))
        XCTAssertEqual(v["b"]?["c"]?.stringValue, "x\"y\\né😀")
        XCTAssertTrue(v["n"]!.doubleValue!.isNaN)
        XCTAssertEqual(v["i"]?.doubleValue, -.infinity)
        XCTAssertEqual(v.objectValue?.keys, ["a", "b", "n", "i"])  // file order kept

        let object: [String: Any] = ["s": "tab\tquote\"<>", "arr": [1, 2.5, "z"], "nested": ["k": false]]
        let data = try JSONSerialization.data(withJSONObject: object)
        let parsed = try JSONValue.parse(String(decoding: data, as: UTF8.self))
        XCTAssertEqual(parsed["s"]?.stringValue, "tab\tquote\"<>")
        XCTAssertEqual(parsed["nested"]?["k"], .bool(false))
        XCTAssertEqual(try JSONValue.parse(parsed.jsonString), parsed)  // the writer round-trips
    }

    func testHostileInputIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try JSONValue.parse(deep)) { XCTAssertTrue("\($0)".contains("nested deeper"), "\($0)") }
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xFF, 0xFE, 0x22])) { XCTAssertTrue("\($0)".contains("invalid UTF-8"), "\($0)") }
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0x61, 0x00, 0x22])) { XCTAssertTrue("\($0)".contains("NUL"), "\($0)") }
        XCTAssertThrowsError(try JSONValue.parse("[1, 2")) { XCTAssertTrue("\($0)".contains("end of input"), "\($0)") }
        XCTAssertThrowsError(try JSONValue.parse("{\"a\": 1}\n{\"b\": 2}")) { XCTAssertTrue("\($0)".contains("line 2"), "\($0)") }
        XCTAssertThrowsError(try JSONValue.parse(String(repeating: "[", count: 100_000)))  // no stack overflow
    }

    func testMalformedInputNamesTheOffset() {
        for (text, offset) in [(#"{"a": 1"#, 7), (#"{"a" 1}"#, 5), ("[1, 2,]", 6), (#"{"a": tru}"#, 6), ("1 2", 2), (#""abc"#, 4)] {
            XCTAssertThrowsError(try JSONValue.parse(text), text) {
                XCTAssertEqual(($0 as? JSONParseError)?.offset, offset, "\(text): \($0)")
            }
        }
    }

    func testErrorsAreTypedWithLineAndColumn() {
        func failure(_ text: String) -> JSONParseError? {
            do { _ = try JSONValue.parse(text); return nil } catch { return error as? JSONParseError }
        }
        XCTAssertEqual(failure(#"{"a": 1"#)?.reason, .unexpectedEnd(inside: "object"))
        XCTAssertEqual(failure("[1,\n  2 3]")?.reason, .expected("',' or ']' in array"))
        XCTAssertEqual(failure("[1,\n  2 3]").map { [$0.line, $0.column, $0.offset] }, [2, 5, 8])
        XCTAssertEqual(failure("\"é\" x")?.column, 5)  // columns count characters, not UTF-8 bytes
        XCTAssertEqual(failure("1 2")?.reason, .trailingData)
        XCTAssertEqual(failure("[1.]")?.reason, .invalidNumber(text: "1.]"))
        XCTAssertEqual(failure("-x")?.reason, .invalidNumber(text: "-x"))
        XCTAssertEqual(failure(#""a\qb""#)?.reason, .invalidEscape("'\\q'"))
        XCTAssertEqual(failure(#""\ud83d""#)?.reason, .invalidEscape("unpaired UTF-16 surrogate"))
        XCTAssertEqual(failure("\"a\tb\"")?.reason, .controlCharacter(byte: 9))
        XCTAssertEqual(failure("@")?.reason, .unexpectedByte(UInt8(ascii: "@")))
        XCTAssertEqual(failure("@")?.description, "line 1, column 1: unexpected '@' where a JSON value was expected")
        XCTAssertEqual(failure("nul")?.reason, .unexpectedEnd(inside: nil))
        XCTAssertEqual(failure("nulL")?.reason, .invalidLiteral(expected: "null"))
        XCTAssertEqual(failure(#""abc"#)?.reason, .unterminatedString)
    }

    func testNonFiniteTokensOnlyWhenAllowed() throws {
        XCTAssertThrowsError(try JSONValue.parse("NaN"))
        XCTAssertThrowsError(try JSONValue.parse("[-Infinity]"))
        XCTAssertTrue(try JSONValue.parse("[NaN]", allowNonFinite: true).arrayValue![0].doubleValue!.isNaN)
        XCTAssertEqual(try JSONValue.parse("-Infinity", allowNonFinite: true), .number(-.infinity))
        XCTAssertEqual(try JSONValue.parse("Infinity", allowNonFinite: true), .number(.infinity))
    }

    func testRepeatedKeysKeepTheFirstValueAlsoPastTheIndexThreshold() throws {
        let many = (0..<40).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        let v = try JSONValue.parse("{\(many), \"k3\": 99, \"k30\": 99}")
        XCTAssertEqual(v.objectValue?.count, 40)
        XCTAssertEqual(v["k3"], 3)
        XCTAssertEqual(v["k30"], 30)
        XCTAssertEqual(try JSONValue.parse(#"{"a": 1, "a": 2}"#)["a"], 1)
    }

    /// Damaged input must give an error or a value, never a crash (a crash would end the test process).
    func testDamagedJSONNeverCrashesTheParser() {
        let line = Array(#"{"step": 12, "reward": -0.5e-3, "s": "a\"b\u00e9\ud83d\ude00", "w": [{"kind": "x", "message": null}], "n": NaN, "t": true}"#.utf8)
        var state: UInt64 = 11
        func next() -> UInt64 {  // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var parsed = 0
        for _ in 0..<5000 {
            var b = line
            switch next() % 4 {
            case 0: b = Array(b.prefix(Int(next() % UInt64(b.count))))
            case 1: b[Int(next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: next())
            case 2: b.insert(UInt8(truncatingIfNeeded: next()), at: Int(next() % UInt64(b.count)))
            default: b.remove(at: Int(next() % UInt64(b.count)))
            }
            if (try? JSONValue.parse(b, allowNonFinite: true)) != nil { parsed += 1 }
        }
        XCTAssertGreaterThan(parsed, 0)  // some mutations stay valid JSON (e.g. inside strings)
    }
}
