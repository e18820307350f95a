import Foundation
import XCTest
import GraderRuntime
@testable import RewardServer
import JSON

/// Every error status the server answers, each with a JSON body saying what went wrong.
final class ErrorStatusTests: XCTestCase {
    func testMalformedJSONIs400SayingWhere() async throws {
        let server = RewardServer(scorer: ClosureScorer.exactMatch, configuration: loopbackConfiguration())
        try await withServer(server) { port in
            let r = try await HTTP.request("POST", port: port, "/v1/graders/exact/invoke", body: Data("[{\"id\": \"a\",\n \"messages\": [}]".utf8))
            XCTAssertEqual(r.status, 400)
            XCTAssertEqual(r.json?["error"]?["type"], "bad_request")
            XCTAssertTrue(r.errorMessage.contains("line 2"), r.errorMessage)

            let notList = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: ["id": "a"])
            XCTAssertEqual(notList.status, 400)
            XCTAssertTrue(notList.errorMessage.contains("expected a JSON array of samples"), notList.errorMessage)

            let notSample = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [["id": "a"], "text"])
            XCTAssertEqual(notSample.status, 400)
            XCTAssertTrue(notSample.errorMessage.contains("[1]: expected a sample object, got string"), notSample.errorMessage)

            let badID = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [["id": ["x"]]])
            XCTAssertTrue(badID.errorMessage.contains("[0].id: expected a string or a number, got array"), badID.errorMessage)

            let dup = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [["id": "a"], ["id": "a"]])
            XCTAssertTrue(dup.errorMessage.contains("[1].id: duplicate id \"a\""), dup.errorMessage)

            let badQuery = try await HTTP.post(port: port, "/get_reward", json: ["query": ["a", 3]])
            XCTAssertEqual(badQuery.status, 400)
            XCTAssertTrue(badQuery.errorMessage.contains("query[1]: expected a string, got number"), badQuery.errorMessage)

            let mismatch = try await HTTP.post(port: port, "/get_reward", json: ["query": ["a"], "labels": ["x", "y"]])
            XCTAssertTrue(mismatch.errorMessage.contains("\"labels\" has 2 entries but \"query\" has 1"), mismatch.errorMessage)
        }
    }

    func testUnknownGraderIs404() async throws {
        let server = RewardServer(scorer: ClosureScorer.exactMatch, configuration: loopbackConfiguration())
        try await withServer(server) { port in
            let r = try await HTTP.post(port: port, "/v1/graders/missing/invoke", json: [bedrockSample("1", answer: "4", reference: 4)])
            XCTAssertEqual(r.status, 404)
            XCTAssertEqual(r.json?["error"]?["type"], "not_found")
            XCTAssertTrue(r.errorMessage.contains("unknown grader \"missing\" (served: exact)"), r.errorMessage)
        }
    }

    func testBodyCapAndBatchSizeAre413() async throws {
        let config = loopbackConfiguration { $0.maxBodyBytes = 4096; $0.maxBatchSize = 3 }
        let server = RewardServer(scorer: ClosureScorer.exactMatch, configuration: config)
        try await withServer(server) { port in
            let big = JSONValue.array([bedrockSample("1", answer: String(repeating: "x", count: 10_000), reference: 1)])
            let r = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: big)
            XCTAssertEqual(r.status, 413)
            XCTAssertTrue(r.errorMessage.contains("exceeds the limit of 4096 bytes"), r.errorMessage)

            let many = JSONValue.array((0..<4).map { bedrockSample(String($0), answer: "4", reference: 4) })
            let r2 = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: many)
            XCTAssertEqual(r2.status, 413)
            XCTAssertTrue(r2.errorMessage.contains("batch of 4 samples exceeds the maximum batch size of 3"), r2.errorMessage)

            let r3 = try await HTTP.post(port: port, "/get_reward", json: ["query": ["a", "b", "c", "d"], "prompts": ["", "", "", ""]])
            XCTAssertEqual(r3.status, 413)

            // The server still answers normal requests afterwards.
            let ok = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [bedrockSample("1", answer: "4", reference: 4)])
            XCTAssertEqual(ok.status, 200)
        }
    }

    func testDeadlineIs504AndServerKeepsServing() async throws {
        let scorer = ClosureScorer { _, samples in
            if samples.first?.id == "slow" { try? await Task.sleep(for: .seconds(30)) }
            return samples.map { ["id": .string($0.id), "aggregate_reward_score": 1.0] }
        }
        let server = RewardServer(scorer: scorer, configuration: loopbackConfiguration { $0.requestDeadline = .milliseconds(300) })
        try await withServer(server) { port in
            let start = Date()
            let r = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [["id": "slow"]])
            XCTAssertEqual(r.status, 504)
            XCTAssertEqual(r.json?["error"]?["type"], "deadline_exceeded")
            XCTAssertLessThan(Date().timeIntervalSince(start), 10)
            let ok = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [["id": "fast"]])
            XCTAssertEqual(ok.status, 200)
        }
    }

    func testRuntimeThrottlingIs429() async throws {
        let scorer = ClosureScorer { _, samples in
            samples.map { ["id": .string($0.id), "error": ["type": "throttled", "message": "queue bound hit"]] }
        }
        let server = RewardServer(scorer: scorer, configuration: loopbackConfiguration { $0.retryAfterSeconds = 2 })
        try await withServer(server) { port in
            let r = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [["id": "1"]])
            XCTAssertEqual(r.status, 429)
            XCTAssertEqual(r.headers["retry-after"], "2")
        }
    }
}
