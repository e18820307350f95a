import XCTest
@testable import RewardServer

final class RewardServerSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
