import XCTest
@testable import RunReports

final class ProgressDisplayTests: XCTestCase {
    func testBarRendering() {
        XCTAssertEqual(ProgressDisplay.bar(fraction: 0, width: 8), "        ")
        XCTAssertEqual(ProgressDisplay.bar(fraction: 0.5, width: 8), "████    ")
        XCTAssertEqual(ProgressDisplay.bar(fraction: 1, width: 8), "████████")
        XCTAssertEqual(ProgressDisplay.bar(fraction: 2, width: 4), "████")
        XCTAssertEqual(ProgressDisplay.bar(fraction: .nan, width: 4), "    ")
        XCTAssertEqual(ProgressDisplay.bar(fraction: 0.5 + 1.0 / 16, width: 8), "████▌   ")
        for i in 0...100 { XCTAssertEqual(ProgressDisplay.bar(fraction: Double(i) / 100, width: 13).count, 13) }
    }

    func testDurations() {
        XCTAssertEqual(ProgressDisplay.duration(12.4), "12s")
        XCTAssertEqual(ProgressDisplay.duration(187), "3m07s")
        XCTAssertEqual(ProgressDisplay.duration(3720), "1h02m")
        XCTAssertEqual(ProgressDisplay.duration(.infinity), "--")
    }

    func testPlainModeIsThrottledAndHasNoControlCodes() {
        var out = ""
        var now = 100.0
        let p = ProgressDisplay(total: 45, mode: .plain, plainEverySteps: 10, plainEverySeconds: 1000,
                                write: { out += $0 }, clock: { now })
        for step in 1...45 {
            now += 2
            p.update(step: step, reward: Double(step) / 100, valReward: step % 10 == 0 ? 0.5 : nil, kl: 0.001)
        }
        p.finish()
        let lines = out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.map { $0.split(separator: " ")[1] }, ["1/45", "11/45", "21/45", "31/45", "41/45", "45/45"])
        XCTAssertFalse(out.contains("\r") || out.contains("\u{1B}"), out)
        XCTAssertEqual(lines[1], "step 11/45 (24%) reward 0.110 val 0.500 kl 0.0010 ETA 1m08s elapsed 22s")
        XCTAssertTrue(lines.last!.contains("ETA 0s"), lines.last!)
    }

    func testPlainModePrintsWhenTheTimeIntervalPasses() {
        var out = ""
        var now = 0.0
        let p = ProgressDisplay(total: 1000, mode: .plain, plainEverySteps: 500, plainEverySeconds: 30,
                                write: { out += $0 }, clock: { now })
        for step in 1...100 { now += 1; p.update(step: step, reward: 0.2) }
        p.finish()
        XCTAssertEqual(out.split(separator: "\n").map { $0.split(separator: " ")[1] }, ["1/1000", "31/1000", "61/1000", "91/1000", "100/1000"])
    }

    func testInteractiveModeRedrawsInPlace() {
        var out: [String] = []
        var now = 0.0
        let p = ProgressDisplay(total: 200, mode: .interactive, write: { out.append($0) }, clock: { now })
        p.columns = { 120 }
        now = 10
        p.update(step: 50, reward: 0.4123, valReward: nil, kl: 0.0031)
        XCTAssertEqual(out.last, "\r\u{1B}[2K" + " 50/200 █████" + String(repeating: " ", count: 15) + "  25% │ reward 0.412 │ val -- │ kl 0.0031 │ ETA 25m00s")  // resumed at step 50: 10 s for one step
        p.log("warning: reward plateau")
        XCTAssertTrue(out.last!.hasPrefix("\r\u{1B}[2Kwarning: reward plateau\n 50/200"), out.last!)
        p.finish()
        XCTAssertEqual(out.last, "\n")
    }

    func testInteractiveLineFitsNarrowTerminals() {
        var out = ""
        let p = ProgressDisplay(total: 200, mode: .interactive, write: { out = $0 }, clock: { 0 })
        for cols in [100, 80, 60, 30] {
            p.columns = { cols }
            p.update(step: 100, reward: 0.5, valReward: 0.4, kl: 0.01)
            let line = out.replacingOccurrences(of: "\r\u{1B}[2K", with: "")
            XCTAssertLessThan(line.count, cols, line)
            XCTAssertTrue(line.hasPrefix("100/200 █"), line)
        }
        p.columns = { 80 }
        p.update(step: 100)
        XCTAssertTrue(out.contains("│ ETA"), out)  // at 80 columns only the bar shrinks; every field stays
    }

    func testGraderErrorsAreShownWheneverThereAreAny() {
        var out = ""
        let p = ProgressDisplay(total: 3, mode: .plain, plainEverySteps: 1, write: { out += $0 }, clock: { 0 })
        p.update(step: 1, reward: 0.5, kl: 0)
        p.update(step: 2, reward: nil, kl: 0, graderErrors: ["handler_error": 64], graded: 64)
        p.update(step: 3, reward: 0.2, kl: 0, graderErrors: ["timeout": 6, "crash": 4, "invalid_output": 0], graded: 64)
        let lines = out.split(separator: "\n").map(String.init)
        XCTAssertFalse(lines[0].contains("errors"), lines[0])
        XCTAssertTrue(lines[1].contains("kl 0.000 errors 64/64 (handler_error) ETA"), lines[1])
        XCTAssertTrue(lines[2].contains("errors 10/64 (timeout 6, crash 4) ETA"), lines[2])
    }
}
