import Foundation
import XCTest
@testable import RunReports

final class ReportTests: XCTestCase {
    /// The `d` attributes of `<path class="line">` elements in one SVG.
    static func linePaths(_ svg: Substring) -> [String] {
        svg.components(separatedBy: "<path class=\"line\"").dropFirst().compactMap { part in
            guard let r = part.range(of: "d=\"") else { return nil }
            return String(part[r.upperBound...].prefix { $0 != "\"" })
        }
    }

    static func svgs(_ html: String) -> [Substring] {
        html.components(separatedBy: "<svg ").dropFirst().map { Substring($0.prefix { _ in true }.components(separatedBy: "</svg>")[0]) }
    }

    func testFullReportHasEverySectionAndChart() throws {
        let dir = try RunFixture(steps: 60).write()
        let url = try ReportBuilder(runDirectory: dir).writeHTML()
        XCTAssertEqual(url, dir.appendingPathComponent("report.html"))
        let html = try String(contentsOf: url, encoding: .utf8)
        for id in ["reward", "graders", "policy", "latency", "warnings", "comparison", "samples", "config", "summary"] {
            XCTAssertTrue(html.contains("<section id=\"\(id)\">"), id)
        }
        XCTAssertTrue(html.contains("Validation reward 0.21 → 0.55 (2.62× the baseline)"))
        let svgs = Self.svgs(html)
        XCTAssertGreaterThanOrEqual(svgs.count, 15)
        // Every chart in a full run has data: no "no data" placeholders, and line charts have non-empty paths.
        XCTAssertFalse(html.contains(">no data<"))
        for svg in svgs where svg.contains("class=\"line\"") {
            for d in Self.linePaths(svg) { XCTAssertTrue(d.hasPrefix("M") && d.contains(" L"), "empty path in \(svg.prefix(200))") }
        }
        // Reward chart: train + val + pass@4 lines, a baseline line, two warning markers.
        let reward = svgs[0]
        XCTAssertTrue(reward.contains("aria-label=\"Reward over steps\""))
        XCTAssertEqual(Self.linePaths(reward).count, 3)
        XCTAssertTrue(reward.contains("<g class=\"ref\"><title>baseline = 0.21</title>"))
        XCTAssertEqual(reward.components(separatedBy: "<g class=\"marker\">").count - 1, 2)
        XCTAssertFalse(reward.contains(">-0.2<"))  // rewards in [0, 1]: the ± std band stops at 0
        XCTAssertTrue(reward.contains("step 41 grader_error_rate: grader errors 6% &gt; 5% &lt;threshold&gt;"))
        // Per-grader chart has one line per grader; the histogram has baseline + 4 steps + final panels,
        // the eval panels rebuilt from the trainer's histogram bins with their exact means.
        XCTAssertTrue(svgs[1].contains("baseline (val)</tspan></text>"))
        XCTAssertTrue(svgs[1].contains(">n=64 · mean 0.21<"))
        XCTAssertTrue(svgs[1].contains(">n=64 · mean 0.55<"))
        XCTAssertEqual(Self.linePaths(svgs.first { $0.contains("Per-grader") }!).count, 2)
        XCTAssertEqual(svgs[1].components(separatedBy: "<path class=\"bars\"").count - 1, 6)
    }

    func testWarningMarkersSitAtTheirSteps() throws {
        let html = try ReportBuilder(runDirectory: try RunFixture(steps: 60).write()).html()
        let reward = Self.svgs(html)[0]
        let train = Self.linePaths(reward)[0].split(separator: " ").map { $0.dropFirst().split(separator: ",")[0] }
        XCTAssertEqual(train.count, 60)
        let markerXs = reward.components(separatedBy: "<g class=\"marker\">").dropFirst().map { part -> Substring in
            let r = part.range(of: "<line x1=\"")!
            return part[r.upperBound...].prefix { $0 != "\"" }
        }
        XCTAssertEqual(markerXs, [train[23], train[40]])  // steps 24 and 41
    }

    func testUserTextIsEscapedAndNothingExternalIsLoaded() throws {
        let html = try ReportBuilder(runDirectory: try RunFixture(steps: 30, sampleInterval: 30, samplesPerStep: 4).write()).html()
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot; &lt;b&gt;bold&lt;/b&gt;"))
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertFalse(html.contains("<b>bold"))
        let stripped = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
            .replacingOccurrences(of: "http-equiv", with: "")
        XCTAssertFalse(stripped.contains("http"), "a URL in the report")
        XCTAssertFalse(html.contains("src="))
        XCTAssertTrue(html.contains("default-src 'none'"))
    }

    func testSampleTableShowsBestAndWorstPerStep() throws {
        let html = try ReportBuilder(runDirectory: try RunFixture(steps: 60).write()).html()
        let section = html.components(separatedBy: "<section id=\"samples\">")[1]
        let table = section.components(separatedBy: "<table class=\"samples\">")[1].components(separatedBy: "</table>")[0]
        let rows = table.components(separatedBy: "<tr class=\"").dropFirst()
        XCTAssertEqual(rows.count, 24)  // 12 of 13 logged steps, best and worst each
        XCTAssertTrue(table.contains("<th>accuracy</th><th>format</th><th>Error</th>"))
        let rewards = rows.map { row -> Double in
            let cell = row.components(separatedBy: "<td class=\"score\">")[1].prefix { $0 != "<" }
            return Double(cell) ?? -1
        }
        for pair in stride(from: 0, to: rewards.count, by: 2) { XCTAssertGreaterThanOrEqual(rewards[pair], rewards[pair + 1]) }
        XCTAssertTrue(rows.first!.hasPrefix("best\"><td>60</td>"))  // newest step first
    }

    func testComparisonAndConfig() throws {
        let html = try ReportBuilder(runDirectory: try RunFixture(steps: 10).write()).html()
        XCTAssertTrue(html.contains("<td>validation reward</td><td>0.21</td><td>0.55</td><td class=\"up\">+0.34</td><td>2.62×</td>"))
        XCTAssertTrue(html.contains("<td>pass_rate</td><td>0.2</td><td>0.5</td>"))
        XCTAssertTrue(html.contains("<td>errors/timeout</td><td>3</td><td>1</td><td class=\"down\">-2</td>"))
        XCTAssertFalse(html.contains("<td>abstained</td>"))  // unchanged counts are left out
        XCTAssertFalse(html.contains("<td>prompts</td>"))    // and so are the evaluation's settings
        XCTAssertTrue(html.contains("<dd>10 / 10</dd>"))
        // Validation examples paired by prompt id: v1 went from " 3" (0) to " 2" (1).
        let examples = html.components(separatedBy: "before and after</h3>")[1].components(separatedBy: "</table>")[0]
        XCTAssertEqual(examples.components(separatedBy: "<tr><td>").count - 1, 4)
        XCTAssertTrue(examples.contains("<td><div class=\"text\"> 3</div></td><td class=\"score\">0</td><td><div class=\"text\"> 2</div></td><td class=\"score up\">1</td>"))
        XCTAssertTrue(examples.contains(" 6 &lt;"))
        XCTAssertTrue(html.contains("<th>hyperparameters.learning_rate</th><td><code>0.0001</code>"))
        XCTAssertTrue(html.contains("<th>rewards.graders[1].name</th><td><code>format</code>"))
    }

    func testOneStepAndEmptyRunsRenderNoDataInsteadOfCrashing() throws {
        let one = try ReportBuilder(runDirectory: try RunFixture(steps: 1, withSideFiles: false).write()).html()
        XCTAssertTrue(one.contains("<circle"))      // the single point is drawn as a dot
        XCTAssertTrue(one.contains("config.json is missing."))
        let emptyDir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: emptyDir, withIntermediateDirectories: true)
        let empty = try ReportBuilder(runDirectory: emptyDir).html()
        XCTAssertGreaterThanOrEqual(empty.components(separatedBy: ">no data<").count - 1, 15)
        XCTAssertTrue(empty.contains("No samples logged"))
        XCTAssertTrue(empty.contains("<dd>no steps yet</dd>"))
        let partial = try ReportBuilder(runDirectory: try RunFixture(steps: 12, halfWrittenLastLine: true, withNaN: true).write()).html()
        XCTAssertTrue(partial.contains("<section id=\"problems\">"))
        XCTAssertTrue(partial.contains("half-written last line"))
    }

    func testWriteErrorsNameThePath() throws {
        let dir = try RunFixture(steps: 3).write()
        XCTAssertThrowsError(try ReportBuilder(runDirectory: dir).writeHTML(to: URL(fileURLWithPath: "/proc/nope/report.html"))) {
            XCTAssertTrue("\($0)".contains("/proc/nope/report.html"), "\($0)")
        }
    }
}

extension ReportTests {
    func testSecretsAreRedactedAndRunawayTextIsCut() throws {
        let dir = try RunFixture(steps: 5, samplesPerStep: 2).write()
        try #"{"rewards": {"endpoint": "http://127.0.0.1:9/x", "api_key": "sk-SECRET", "headers": {"Authorization": "Bearer abc"}}, "max_tokens": 16}"#
            .write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let long = String(repeating: "x", count: 5000)
        try (#"{"step": 9, "prompt": "p", "completion": ""# + long + #"", "reward": 1}"# + "\n")
            .write(to: dir.appendingPathComponent("samples.jsonl"), atomically: true, encoding: .utf8)
        let html = try ReportBuilder(runDirectory: dir).html()
        XCTAssertFalse(html.contains("sk-SECRET") || html.contains("Bearer abc"))
        XCTAssertTrue(html.contains("<th>rewards.api_key</th><td><code>•••• (redacted)</code>"))
        XCTAssertTrue(html.contains("<th>max_tokens</th><td><code>16</code>"))
        XCTAssertTrue(html.contains(String(repeating: "x", count: 2000) + "… (3000 more characters)"))
        XCTAssertFalse(html.contains(String(repeating: "x", count: 2001)))
    }

    func testManyWarningsKeepTooltipsButDropOverlappingLabels() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-warn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let lines = (1...40).map { #"{"step": \#($0), "reward": 0.0, "warnings": [{"kind": "all_rewards_zero", "message": "every reward is 0"}]}"# }
        try lines.joined(separator: "\n").write(to: dir.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        let reward = Self.svgs(try ReportBuilder(runDirectory: dir).html())[0]
        XCTAssertEqual(reward.components(separatedBy: "<g class=\"marker\">").count - 1, 40)
        XCTAssertFalse(reward.contains("⚠"))
    }
}

extension ReportTests {
    func testLongNoisySeriesGetASmoothedTrendOverTheRawCurve() throws {
        var rng = SplitMix(seed: 1)
        let raw = (0..<1000).map { i in (x: Double(i), y: Double(i) / 1000 + rng.normal() * 0.2) }
        let smooth = LineChart.smoothed(raw)
        XCTAssertEqual(smooth.count, raw.count)
        XCTAssertEqual(smooth[0].y, raw[0].y, accuracy: 1e-12)  // debiased: starts at the first value
        func roughness(_ p: [(x: Double, y: Double)]) -> Double { zip(p, p.dropFirst()).map { abs($1.y - $0.y) }.reduce(0, +) }
        XCTAssertLessThan(roughness(smooth), roughness(raw) / 5)
        XCTAssertEqual(smooth.last!.y, 1, accuracy: 0.1)  // still follows the trend
        let svg = LineChart(title: "t", series: [ChartSeries(name: "r", points: raw, color: "#000")]).svg()
        XCTAssertEqual(svg.components(separatedBy: "<path class=\"raw\"").count - 1, 1)
        XCTAssertEqual(svg.components(separatedBy: "<path class=\"line\"").count - 1, 1)
    }
}

extension ReportTests {
    func testFailedRunShowsItsErrorAndTruncatedCompletionsAreTagged() throws {
        let dir = try RunFixture(steps: 10).write()
        try #"{"status": "Failed", "steps": 7, "total_steps": 10, "error": "grader math: on_error=fail <exit 1>"}"#
            .write(to: dir.appendingPathComponent("summary.json"), atomically: true, encoding: .utf8)
        try #"{"step": 7, "prompt": "p", "completion": "1111111111", "reward": 0, "truncated": true}"#
            .write(to: dir.appendingPathComponent("samples.jsonl"), atomically: true, encoding: .utf8)
        let html = try ReportBuilder(runDirectory: dir).html()
        XCTAssertTrue(html.contains("<p class=\"banner\">The run stopped with an error: grader math: on_error=fail &lt;exit 1&gt;</p>"))
        XCTAssertTrue(html.contains("<dd>Failed</dd>"))
        XCTAssertTrue(html.contains("<dd>7 / 10</dd>"))
        XCTAssertTrue(html.contains("<span class=\"tag\">truncated at max length</span>"))
    }

    func testGraderErrorsOpenTheReportWithARedBanner() throws {
        let dir = try RunFixture(steps: 3).write()
        try #"""
            {"status": "Failed", "steps": 3, "total_steps": 10, "error": "grading failed on 100.0% of samples",
             "grader_errors": {"handler_error": {"count": 48, "examples": ["sample \"q1#1.0.0\": ConnectionRefusedError: <refused> (at judge_grader.py:120)"]},
                               "timeout": {"count": 2, "examples": []}}}
            """#.write(to: dir.appendingPathComponent("summary.json"), atomically: true, encoding: .utf8)
        let html = try ReportBuilder(runDirectory: dir).html()
        let header = html.components(separatedBy: "<header>")[1].components(separatedBy: "</header>")[0]
        // Right under the run's name, before the headline figures.
        XCTAssertTrue(header.hasPrefix("<h1>\(dir.lastPathComponent)</h1><div class=\"banner errors\">"), header)
        XCTAssertTrue(header.contains("Grading failed on 50 samples: handler_error ×48, timeout ×2"), header)
        XCTAssertTrue(header.contains("ConnectionRefusedError: &lt;refused&gt; (at judge_grader.py:120)"), header)
        // A run without summary counts still gets the banner from its grader/errors/* metrics.
        let fromMetrics = try ReportBuilder(runDirectory: try RunFixture(steps: 30, withSideFiles: false).write()).html()
        XCTAssertTrue(fromMetrics.contains("<div class=\"banner errors\"><strong>Grading failed on "), "metrics fallback")
    }
}
