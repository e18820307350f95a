import Foundation
import GraderRuntime
import RFTClient
import XCTest
@testable import RewardServer

/// `RemoteScorer`, the client the trainer uses to score through a reward server.
final class RemoteScorerTests: XCTestCase {
    private func samples(_ n: Int) -> [Sample] {
        (0..<n).map { Sample(id: "s\($0)", messages: [("user", "2+2?"), ("assistant", $0 % 2 == 0 ? "4" : "5")], referenceAnswer: 4) }
    }

    func testSameResultTypesAsTheServerReports() async throws {
        let server = RewardServer(scorer: ClosureScorer.exactMatch, configuration: loopbackConfiguration())
        try await withServer(server) { port in
            var input = samples(5)
            input.append(Sample(id: "boom", messages: [("assistant", "x")], referenceAnswer: "CRASH"))
            let remote = RemoteScorer(.init(url: URL(string: "http://127.0.0.1:\(port)")!, grader: "exact", maxBatch: 2))
            let results = try await remote.score(input, grader: "exact").map(\.output)
            XCTAssertEqual(results.map(\.id), input.map(\.id))
            XCTAssertEqual(results.prefix(5).map(\.score), [1, 0, 1, 0, 1])
            XCTAssertEqual(results[0].metrics.first, Metric(name: "accuracy", value: 1, type: "Reward"))
            XCTAssertEqual(results[5].error?.type, .crash)
            XCTAssertEqual(results[5].error?.message, "worker exited with signal 11")
        }
    }

    func testRetriesThrottlingAndReportsWhatRetriesCannotFix() async throws {
        let calls = Counter()
        let scorer = ClosureScorer { _, samples in
            // The first two batches find the runtime's queue full.
            let n = calls.next()
            return samples.map { n < 2 ? ["id": .string($0.id), "error": ["type": "throttled", "message": "busy"]]
                                       : ["id": .string($0.id), "aggregate_reward_score": 0.25] }
        }
        let server = RewardServer(scorer: scorer, configuration: loopbackConfiguration { $0.retryAfterSeconds = 0 })
        try await withServer(server) { port in
            let url = URL(string: "http://127.0.0.1:\(port)")!
            let ok = try await RemoteScorer(.init(url: url, grader: "exact", retries: 3)).score(samples(3), grader: "exact").map(\.output)
            XCTAssertEqual(ok.map(\.score), [0.25, 0.25, 0.25])
            XCTAssertEqual(calls.value, 3)

            let unknown = try await RemoteScorer(.init(url: url, grader: "nope", retries: 3)).score(samples(2), grader: "nope").map(\.output)
            XCTAssertEqual(unknown.map { $0.error?.type }, [.initError, .initError])
            XCTAssertTrue(unknown[0].error?.message.contains("unknown grader \"nope\"") ?? false, "\(unknown)")
        }
        // Nothing listens any more: every sample gets a typed crash, not a thrown error or a hang.
        let gone = try await RemoteScorer(.init(url: URL(string: "http://127.0.0.1:1")!, grader: "exact", retries: 1))
            .score(samples(2), grader: "exact").map(\.output)
        XCTAssertEqual(gone.map { $0.error?.type }, [.crash, .crash])
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int { lock.withLock { defer { n += 1 }; return n } }
    var value: Int { lock.withLock { n } }
}
