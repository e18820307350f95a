import Foundation
import XCTest

final class DemoCommandTests: XCTestCase {
    /// A bad schedule is refused before any data is drawn or any model trained.
    func testUnknownLearningRateScheduleIsRefusedUpFront() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try RFTBinary.run(["demo", "--run-dir", dir.path, "--lr-scheduler", "wobbly"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--lr-scheduler must be one of constant, linear, cosine, not 'wobbly'"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path), "nothing is written for a refused command")
    }
}
