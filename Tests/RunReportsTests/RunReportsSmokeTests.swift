import XCTest
@testable import RunReports

final class RunReportsSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
