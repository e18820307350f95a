import Foundation
import XCTest
@testable import RunReports

/// Damaged input must give an error or a value, never a crash (a crash would end the test process).
/// (The JSON parser's own fuzz test is in JSONTests.)
final class FuzzTests: XCTestCase {
    func testDamagedEventFilesNeverCrashTheReader() throws {
        var stream: [UInt8] = []
        for step in 0..<5 {
            stream += TFRecord.frame(TensorBoardEvent(wallTime: 1, step: Int64(step), scalars: [TensorBoardScalar(tag: "kl", value: 0.5)]).encoded())
        }
        var rng = SplitMix(seed: 5)
        for n in 0..<stream.count { _ = try? TFRecord.records(in: Array(stream.prefix(n))) }  // every truncation
        for _ in 0..<3000 {
            var b = stream
            b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next())
            _ = try? TFRecord.records(in: b)
            let payload = Array(TensorBoardEvent(wallTime: 1, step: 3, scalars: [TensorBoardScalar(tag: "kl", value: 1)]).encoded())
            var p = payload
            p[Int(rng.next() % UInt64(p.count))] = UInt8(truncatingIfNeeded: rng.next())
            _ = try? TensorBoardEvent(decoding: p[...])
            _ = try? TensorBoardEvent(decoding: p.prefix(Int(rng.next() % UInt64(p.count)))[...])
        }
    }
}

extension FuzzTests {
    func testAbsurdNumbersInARunDoNotCrashTheReport() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-absurd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try """
        {"step": 1e300, "reward": 1}
        {"step": 1, "reward": 1e308, "kl": -1e308, "reward_std": 1e308}
        {"step": 2, "reward": -Infinity, "warnings": "not a list"}
        {"step": 3, "reward": 0.5, "warnings": [{"kind": 7}]}
        """.write(to: dir.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        try #"{"step": -1e300, "rewards": [1, 2], "error": {"type": 5}}"# .write(to: dir.appendingPathComponent("samples.jsonl"), atomically: true, encoding: .utf8)
        try #"{"steps": 1e300, "total_steps": -5, "best_checkpoint": {"path": "ck"}, "histogram": 3}"#
            .write(to: dir.appendingPathComponent("summary.json"), atomically: true, encoding: .utf8)
        try #"{"mean_reward": "x", "histogram": [{"lower": 0, "upper": 1, "count": 1e300}, 5]}"#
            .write(to: dir.appendingPathComponent("baseline.json"), atomically: true, encoding: .utf8)
        let html = try ReportBuilder(runDirectory: dir).html()
        XCTAssertTrue(html.contains("metrics.jsonl:1: no whole-number &quot;step&quot;"))
        XCTAssertTrue(html.contains("<dd>ck</dd>"))
    }
}
