import XCTest
@testable import TransformerModel

final class TransformerModelSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
