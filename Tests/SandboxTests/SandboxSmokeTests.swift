import XCTest
@testable import Sandbox

final class SandboxSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
