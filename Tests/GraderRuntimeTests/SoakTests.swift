import XCTest
@testable import GraderRuntime
import JSON

/// 10,000 samples through graders where about 10% of batches crash, hang, print garbage, return wrong
/// ids, exceed memory or leave threads behind, plus a flood that overruns the queue (threat rows 23, 24).
/// Every sample must get exactly one result, nothing may hang, and no process may outlive the pools.
final class SoakTests: XCTestCase {
    static let modes = ["crash", "hang", "garbage", "wrong_ids", "oom", "leak"]
    static let batchSize = 20

    /// Samples whose batch `b` carries a chaos mode when b % 10 == 3 (10% of batches).
    private func samples(_ n: Int, prefix: String) -> (samples: [Sample], chaos: [String: String]) {
        var out: [Sample] = [], chaos: [String: String] = [:]
        for i in 0..<n {
            let b = i / Self.batchSize
            var extra: [String: JSONValue] = [:]
            if b % 10 == 3 && i % Self.batchSize == 7 {
                let mode = Self.modes[(b / 10) % Self.modes.count]
                extra["chaos"] = .string(mode)
                chaos["\(prefix)\(i)"] = mode
            }
            out.append(Fixture.sample("\(prefix)\(i)", "reply \(i)", extra: extra))
        }
        return (out, chaos)
    }

    private static let pythonChaos = """
        import os, sys, threading, time
        LEAKED = []
        def lambda_handler(event, context):
            modes = {s.get("chaos") for s in event}
            if "crash" in modes:
                os.abort()
            if "hang" in modes:
                while True:
                    pass
            if "garbage" in modes:
                print("\\x00garbage" * 1000)
                return "garbage"
            if "wrong_ids" in modes:
                return [{"id": s["id"] + "-x", "aggregate_reward_score": 1} for s in event]
            if "oom" in modes:
                hog = bytearray(300 << 20)
                for i in range(0, len(hog), 4096):
                    hog[i] = 1
            if "leak" in modes:
                threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
                LEAKED.append(bytearray(1 << 20))
                open("/tmp/leftover-%d" % len(LEAKED), "w").write("x")
            return [{"id": s["id"], "aggregate_reward_score": 1.0} for s in event]
        """

    private static let execChaos = """
        import json, os, sys, time
        batch = json.load(sys.stdin)
        modes = {s.get("chaos") for s in batch}
        if "crash" in modes:
            os.kill(os.getpid(), 11)
        if "hang" in modes:
            time.sleep(3600)
        if "garbage" in modes:
            sys.stdout.write("Traceback (most recent call last): nope\\n")
            sys.exit(0)
        if "oom" in modes:
            hog = bytearray(300 << 20)
            for i in range(0, len(hog), 4096):
                hog[i] = 1
        suffix = "-x" if "wrong_ids" in modes else ""
        json.dump([{"id": s["id"] + suffix, "aggregate_reward_score": 1.0} for s in batch], sys.stdout)
        """

    /// The error types a chaos mode may legitimately produce.
    private static let expected: [String: Set<GraderErrorType>] = [
        "crash": [.crash], "hang": [.timeout], "garbage": [.invalidOutput], "wrong_ids": [.invalidOutput],
        // Near the memory limit the kernel may thrash on page cache long enough for the deadline to hit first.
        "oom": [.memoryLimit, .timeout], "leak": [],
    ]

    private func verify(_ results: [SampleResult], _ input: [Sample], _ chaos: [String: String], allowThrottle: Bool,
                        file: StaticString = #filePath, line: UInt = #line) -> (scored: Int, throttled: Int, oomKills: Int) {
        XCTAssertEqual(results.map(\.id), input.map(\.id), "one result per sample, in order", file: file, line: line)
        var scored = 0, throttled = 0, oomKills = 0
        for r in results {
            switch r.outcome {
            case .scored: scored += 1
            case .abstained: XCTFail("unexpected abstention for \(r.id)", file: file, line: line)
            case .failed(let e):
                if e.type == .throttled {
                    throttled += 1
                    XCTAssertTrue(allowThrottle, "throttled without a flood: \(r.id)", file: file, line: line)
                    continue
                }
                // A healthy sample may share a failed half-batch with a chaos sample; a chaos sample must fail
                // with its own type.
                if e.type == .memoryLimit { oomKills += 1 }
                if let mode = chaos[r.id] {
                    XCTAssertTrue(Self.expected[mode]!.contains(e.type), "\(r.id) (\(mode)): \(e)", file: file, line: line)
                }
            }
        }
        for (id, mode) in chaos where mode == "leak" {
            let r = results.first { $0.id == id }!
            XCTAssertTrue(r.score != nil || r.error?.type == .throttled, "\(id) leak batch: \(r)", file: file, line: line)
        }
        return (scored, throttled, oomKills)
    }

    func testTenThousandSamplesThroughMisbehavingGraders() throws {
        let before = Set(childProcesses())
        let start = Date()
        let common = #""batch_size": \#(Self.batchSize), "concurrency": 4, "timeout_ms": 1500, "memory_mb": 96, "retries": 1"#

        // 7,000 samples through warm Python workers.
        let python = try GraderPool(directory: try Fixture.python(Self.pythonChaos, manifest: common + #", "queue_limit": 1000"#))
        let (pySamples, pyChaos) = samples(7000, prefix: "py")
        let py = verify(python.score(pySamples), pySamples, pyChaos, allowThrottle: false)
        XCTAssertGreaterThan(py.scored, 6000)
        XCTAssertGreaterThan(py.oomKills, 0, "memory_limit is reported as such")
        python.shutdown()

        // 2,000 samples through the exec runtime: a process per batch.
        let execDir = try Fixture.grader("{}", files: ["chaos.py": Self.execChaos])
        try #"{"name": "chaos-exec", "runtime": "exec", "command": ["/usr/bin/python3", "\#(execDir.path)/chaos.py"], \#(common)}"#
            .write(to: execDir.appendingPathComponent("grader.json"), atomically: true, encoding: .utf8)
        let exec = try GraderPool(directory: execDir)
        let (exSamples, exChaos) = samples(2000, prefix: "ex")
        let ex = verify(exec.score(exSamples), exSamples, exChaos, allowThrottle: false)
        XCTAssertGreaterThan(ex.scored, 1700)
        XCTAssertGreaterThan(ex.oomKills, 0, "memory_limit is reported as such")
        exec.shutdown()

        // 1,000 samples arriving at once from 4 callers at a pool with a short queue: explicit throttling.
        let flood = try GraderPool(directory: try Fixture.python(Self.pythonChaos, manifest: common + #", "queue_limit": 10"#))
        let parts = (0..<4).map { samples(250, prefix: "fl\($0)-") }
        var floodResults = [[SampleResult]](repeating: [], count: 4)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 4) { k in
            let r = flood.score(parts[k].samples)
            lock.lock(); floodResults[k] = r; lock.unlock()
        }
        var throttled = 0
        for k in 0..<4 { throttled += verify(floodResults[k], parts[k].samples, parts[k].chaos, allowThrottle: true).throttled }
        XCTAssertGreaterThan(throttled, 0, "a queue of 10 batches cannot hold 52")
        flood.shutdown()

        let stats = [python.currentStats, exec.currentStats]
        XCTAssertGreaterThan(stats[0].retries, 0)
        XCTAssertGreaterThan(stats[1].retries, 0)
        XCTAssertEqual(leftoverChildren(since: before), [], "no sandboxed process outlives its pool")
        XCTAssertLessThan(Date().timeIntervalSince(start), 120, "nothing hangs")
    }
}
