import XCTest
import Foundation

/// Runs the built `rft` binary the way a user would.
final class CLIHelpTests: XCTestCase {
    func testTopLevelHelpListsCommands() throws {
        let result = try RFTBinary.run(["--help"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains("sandbox"), result.stdout)
    }
}
