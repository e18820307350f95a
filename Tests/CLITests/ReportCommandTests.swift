import Foundation
import XCTest

/// `rft report` as a user runs it.
final class ReportCommandTests: XCTestCase {
    func testReportWritesHTMLAndPrintsItsPath() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-cli-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let lines = (1...5).map { #"{"step": \#($0), "reward": 0.\#($0), "kl": 0.01, "val/reward": 0.\#($0)}"# }
        try (lines.joined(separator: "\n") + "\n{\"step\": 6, \"rew").write(to: dir.appendingPathComponent("metrics.jsonl"),
                                                                           atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("custom.html")
        let result = try RFTBinary.run(["report", dir.path, "--out", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "report: \(out.path)\n")
        XCTAssertTrue(result.stderr.contains("metrics.jsonl:6:"), result.stderr)  // the half-written line is named
        let html = try String(contentsOf: out, encoding: .utf8)
        XCTAssertTrue(html.contains("Reward over steps"))

        let missing = try RFTBinary.run(["report", dir.appendingPathComponent("nope").path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("not a run directory"), missing.stderr)
    }

    func testHelpHasAnExample() throws {
        let result = try RFTBinary.run(["report", "--help"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains("rft report runs/demo"), result.stdout)
    }
}
