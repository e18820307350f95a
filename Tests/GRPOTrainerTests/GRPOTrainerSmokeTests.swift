import XCTest
@testable import GRPOTrainer

final class GRPOTrainerSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
