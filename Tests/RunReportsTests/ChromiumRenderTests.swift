import Foundation
import XCTest
@testable import RunReports

/// Renders the report in headless Chromium (Debian package `chromium`): the page must load without
/// console errors or CSP violations, its charts must have non-empty paths, and a screenshot is taken.
/// Set RFT_REPORT_SCREENSHOT=/path/report.png to keep the screenshot (docs/report.png comes from this).
final class ChromiumRenderTests: XCTestCase {
    static func chromium() -> String? {
        let env = ProcessInfo.processInfo.environment["RFT_CHROMIUM"]
        return [env, "chromium", "chromium-browser", "google-chrome"].compactMap { $0 }.lazy.compactMap(TestProcess.which).first
    }

    func testReportRendersInHeadlessChromium() throws {
        guard let chromium = Self.chromium() else {
            throw XCTSkip("chromium not found: apt-get install chromium (or set RFT_CHROMIUM) to run the rendering check")
        }
        let dir = try RunFixture(steps: 60).write(named: "demo-run")
        let report = try ReportBuilder(runDirectory: dir).writeHTML()
        let profile = dir.appendingPathComponent("chromium-profile")
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                      "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0"]

        let dom = try TestProcess.run(chromium, common + ["--dump-dom", report.absoluteString], timeout: 120)
        XCTAssertEqual(dom.status, 0, dom.stderr)
        Self.assertNoPageErrors(dom.stderr)
        // The parsed DOM holds every chart, and each line chart has a non-empty path.
        let svgs = dom.stdout.components(separatedBy: "<svg ").dropFirst()
        XCTAssertGreaterThanOrEqual(svgs.count, 15, String(dom.stdout.prefix(500)))
        let paths = dom.stdout.components(separatedBy: "<path ").dropFirst().map { tag -> String in
            guard let r = tag.range(of: " d=\"") else { return "" }
            return String(tag[r.upperBound...].prefix { $0 != "\"" })
        }
        XCTAssertGreaterThanOrEqual(paths.count, 25)
        XCTAssertTrue(paths.allSatisfy { $0.hasPrefix("M") && $0.count > 8 }, "an empty SVG path in the rendered DOM")
        XCTAssertTrue(dom.stdout.contains("Reward over steps"))
        XCTAssertFalse(dom.stdout.contains("<script"), "user text became markup")

        let png = dir.appendingPathComponent("report.png")
        let shot = try TestProcess.run(chromium, common + ["--hide-scrollbars", "--window-size=1280,2000",
                                                          "--screenshot=\(png.path)", report.absoluteString], timeout: 120)
        XCTAssertEqual(shot.status, 0, shot.stderr)
        Self.assertNoPageErrors(shot.stderr)
        let bytes = try Data(contentsOf: png)
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        XCTAssertGreaterThan(bytes.count, 50_000, "screenshot suspiciously small (blank page?)")
        if let keep = ProcessInfo.processInfo.environment["RFT_REPORT_SCREENSHOT"], !keep.isEmpty {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: png, to: URL(fileURLWithPath: keep))
        }
    }

    /// Chromium logs page console messages as `CONSOLE(...)` and CSP violations as "Refused to ...".
    static func assertNoPageErrors(_ stderr: String, file: StaticString = #filePath, line: UInt = #line) {
        let bad = stderr.split(separator: "\n").filter {
            $0.contains("CONSOLE") || $0.contains("Refused to") || $0.contains("Uncaught") || $0.contains("net::ERR_")
        }
        XCTAssertEqual(bad, [], "page errors:\n" + bad.joined(separator: "\n"), file: file, line: line)
    }
}
