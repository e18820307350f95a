import XCTest
@testable import RunReports

final class HTMLTextTests: XCTestCase {
    func testEscaping() {
        XCTAssertEqual(HTMLText.escape(#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        XCTAssertEqual(HTMLText.escape("line\nnext\u{0}"), "line\nnext\u{FFFD}")
    }

    func testNumbersAreShortAndReadable() {
        let cases: [(Double?, String)] = [(nil, "—"), (.nan, "NaN"), (.infinity, "∞"), (0, "0"), (0.25, "0.25"),
                                          (0.123456, "0.123"), (12.3456, "12.35"), (123.456, "123.5"), (5200.4, "5200"),
                                          (1e-4, "1e-4"), (2.5e-5, "2.5e-5"), (-3e-6, "-3e-6"), (12_000_000, "1.2e7"), (9.999e-4, "1e-3")]
        for (value, text) in cases { XCTAssertEqual(HTMLText.number(value), text, "\(String(describing: value))") }
    }

    func testCoordinates() {
        XCTAssertEqual(HTMLText.coord(12.34), "12.3")
        XCTAssertEqual(HTMLText.coord(-0.04), "0")
        XCTAssertEqual(HTMLText.coord(-0.06), "-0.1")
        XCTAssertEqual(HTMLText.coord(250), "250")
        XCTAssertEqual(HTMLText.coord(.nan), "0")
    }
}
