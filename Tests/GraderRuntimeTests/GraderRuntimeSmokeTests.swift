import XCTest
@testable import GraderRuntime

final class GraderRuntimeSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
