import Foundation
import XCTest
@testable import GraderRuntime
import JSON

/// The reward hacks of issue 13 against `templates/code-execution`, all in one warm worker and one batch:
/// every rigged program scores exactly 0, every correct neighbour 1, and nothing stalls or survives.
final class CodeExecutionAttackTests: XCTestCase {
    private let template = Fixture.root.appendingPathComponent("templates/code-execution")

    /// The template copied with one worker (so every sample shares it) and a secret granted to the grader.
    private func graderCopy() throws -> URL {
        let dir = Fixture.scratch.appendingPathComponent("code-exec-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: template, to: dir)
        var m = try JSONValue.parse(Array(try Data(contentsOf: dir.appendingPathComponent("grader.json"))))
        guard case .object(var o) = m else { throw XCTSkip("grader.json is not an object") }
        o["concurrency"] = 1
        o["batch_size"] = 64
        o["environment"] = .object(["GRADER_SECRET": "s3cr3t-9911"])
        m = .object(o)
        try Data(m.jsonBytes()).write(to: dir.appendingPathComponent("grader.json"))
        _ = try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        for f in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            _ = try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir.appendingPathComponent(f).path)
        }
        return dir
    }

    private func cases(prefix: String) throws -> [(sample: Sample, expected: Double)] {
        let text = try String(contentsOf: template.appendingPathComponent("cases.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").compactMap { line in
            guard case .object(var o) = try JSONValue.parse(String(line)),
                  let id = o["id"]?.stringValue, id.hasPrefix(prefix), let e = o["expected_score"]?.doubleValue else { return nil }
            o["expected_score"] = nil
            o["tolerance"] = nil
            return (Sample(record: o, defaultID: id), e)
        }
    }

    private func correct(_ id: String, shape: Int) -> Sample {
        let add = "def add(a, b):\n    return a + b\n"
        let code: String, ref: JSONValue
        switch shape % 3 {
        case 0:
            code = add
            ref = ["function": "add", "cases": [["args": [1, 2], "expected": 3], ["args": [5, 7], "expected": 12]]]
        case 1:
            code = add
            ref = ["asserts": ["assert add(1, 2) == 3", "assert abs(add(0.5, 1) - 1.5) < 1e-9"]]
        default:
            code = "a, b = map(int, input().split())\nprint(a + b)\n"
            ref = ["tests": [["stdin": "1 2\n", "stdout": "3"], ["stdin": "4 4\n", "stdout": "8"]]]
        }
        return Fixture.sample(id, "```python\n\(code)```", reference: ref)
    }

    func testEveryAttackScoresZeroAndItsNeighboursKeepTheirScores() throws {
        let attacks = try cases(prefix: "attack-")
        XCTAssertGreaterThanOrEqual(attacks.count, 14)
        let dir = try graderCopy()
        let before = Set(childProcesses())
        let pool = try GraderPool(directory: dir)
        var batch: [Sample] = [correct("good-first", shape: 0)]
        var expected: [String: Double] = ["good-first": 1]
        for (i, a) in attacks.enumerated() {
            batch.append(a.sample)
            expected[a.sample.id] = a.expected
            let good = correct("good-after-\(a.sample.id)", shape: i)
            batch.append(good)
            expected[good.id] = 1
        }
        let start = Date()
        let results = pool.score(batch)
        let elapsed = Date().timeIntervalSince(start)
        pool.shutdown()
        for r in results {
            XCTAssertNil(r.error, "\(r.id): \(r)")
            XCTAssertEqual(r.score, expected[r.id], "\(r.id): \(r.metrics.filter { $0.name.hasPrefix("test_") }.map(\.name))")
        }
        // Before: a SIGSTOPped grader stalled the batch for its whole 120 s timeout.
        XCTAssertLessThan(elapsed, 60, "nothing stalls beyond a sample's own tests")
        XCTAssertEqual(leftoverChildren(since: before), [], "no sandbox of any run survives")
    }

    func testFilesLeftByOneSampleAreNotSeenByTheNext() throws {
        let all = try cases(prefix: "attack-leak-")
        let writer = try XCTUnwrap(all.first { $0.sample.id.hasSuffix("writer") })
        let reader = try XCTUnwrap(all.first { $0.sample.id.hasSuffix("reader") })
        let pool = try GraderPool(directory: try graderCopy())
        defer { pool.shutdown() }
        // Same worker, one after the other, in one batch and then in the next.
        XCTAssertEqual(pool.score([writer.sample, reader.sample]).map(\.score), [1, 0])
        XCTAssertEqual(pool.score([reader.sample]).map(\.score), [0])
    }

    func testTheGradersSecretIsNotReadableByTheProgram() throws {
        let secret = try XCTUnwrap(try cases(prefix: "attack-read-secrets").first)
        // The same program passes when its answer is something it can really see (its own environment).
        guard case .object(var honest) = JSONValue.object(secret.sample.record) else { return }
        honest["id"] = "honest"
        honest["reference_answer"] = ["function": "secret", "cases": [["args": [], "expected": ""]]]
        honest["metadata"] = nil
        let pool = try GraderPool(directory: try graderCopy())
        defer { pool.shutdown() }
        let r = pool.score([secret.sample, Sample(record: honest, defaultID: "honest")])
        XCTAssertEqual(r.map(\.score), [0, 1], "\(r)")
    }
}
