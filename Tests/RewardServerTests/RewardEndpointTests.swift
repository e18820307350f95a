import Foundation
import XCTest
import GraderRuntime
@testable import RewardServer
import JSON

/// Both reward protocols and the read-only endpoints, over real HTTP on 127.0.0.1.
final class RewardEndpointTests: XCTestCase {
    func testInvokeReturnsOneTypedResultPerSample() async throws {
        let server = RewardServer(scorer: ClosureScorer.exactMatch, configuration: loopbackConfiguration())
        try await withServer(server) { port in
            let batch: JSONValue = [
                bedrockSample("a", answer: "4", reference: 4),
                ["id": "b", "messages": [["role": "assistant", "content": "5"]], "metadata": ["reference_answer": "4"]],
                bedrockSample("c", answer: "4", reference: "CRASH"),
            ]
            let r = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: batch)
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertEqual(r.headers["content-type"], "application/json")
            let out = try XCTUnwrap(r.json?.arrayValue)
            XCTAssertEqual(out.map { $0["id"] }, ["a", "b", "c"])
            XCTAssertEqual(out[0]["aggregate_reward_score"]?.doubleValue, 1)
            XCTAssertEqual(out[0]["metrics_list"]?.arrayValue?.first?["name"], "accuracy")
            XCTAssertEqual(out[1]["aggregate_reward_score"]?.doubleValue, 0)
            XCTAssertEqual(out[2]["error"]?["type"], "crash")
            XCTAssertNil(out[2]["aggregate_reward_score"])
        }
    }

    func testGetRewardSplitsByPromptAndMapsLabels() async throws {
        let server = RewardServer(scorer: ClosureScorer.exactMatch, configuration: loopbackConfiguration())
        try await withServer(server) { port in
            let body: JSONValue = [
                "query": ["Q: 2+2? A: 4", "Q: 3+3? A: 7", "unrelated text", "Q: x A: y"],
                "prompts": ["Q: 2+2? A: ", "Q: 3+3? A: ", "Q: 1+1? A: ", "Q: x A: "],
                "labels": ["4", "6", "2", "CRASH"],
            ]
            let r = try await HTTP.post(port: port, "/get_reward", json: body)
            XCTAssertEqual(r.status, 200, r.text)
            let json = try XCTUnwrap(r.json)
            XCTAssertEqual(json["rewards"], [1.0, 0.0, 0.0, 0.0])
            XCTAssertEqual(json["scores"], json["rewards"])
            // Per-grader components and diagnostics from metrics_list, and which samples failed.
            XCTAssertEqual(json["extra_logs"]?["accuracy"], [1.0, 0.0, 0.0, 0.0])
            XCTAssertEqual(json["extra_logs"]?["length"], [1.0, 1.0, 0.0, 0.0])
            XCTAssertEqual(json["extra_logs"]?["grader_error"], [0.0, 0.0, 1.0, 1.0])
        }
    }

    func testGetRewardSplitsByMarkerAndStripsEOS() async throws {
        let seen = SampleLog()
        let scorer = ClosureScorer { _, samples in
            await seen.append(samples)
            return samples.map { ["id": .string($0.id), "aggregate_reward_score": 0.5] }
        }
        var openRLHF = OpenRLHFConfiguration()
        openRLHF.responseSplit = .marker("<|im_start|>assistant\n")
        openRLHF.stripSuffixes = ["<|im_end|>"]
        openRLHF.labelMapping = .field("answer")
        let server = RewardServer(scorer: scorer, configuration: loopbackConfiguration(), openRLHF: openRLHF)
        try await withServer(server) { port in
            let query = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>"
            let r = try await HTTP.post(port: port, "/get_reward", json: ["query": [.string(query)], "labels": ["greeting"]])
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertEqual(r.json?["rewards"], [0.5])
            let seenSamples = await seen.samples
            let sample = try XCTUnwrap(seenSamples.first)
            XCTAssertEqual(sample.completionText, "Hello!")
            XCTAssertEqual(sample.record["messages"]?.arrayValue?.first?["content"], "<|im_start|>user\nHi<|im_end|>\n")
            XCTAssertEqual(sample.referenceAnswer, ["answer": "greeting"])
        }
    }

    func testListingHealthAndMetrics() async throws {
        let scorer = ClosureScorer.exactMatch
        scorer.statsValue = ScorerStats(queueDepth: ["exact": 3], workerRestarts: ["exact": 2])
        let server = RewardServer(scorer: scorer, configuration: loopbackConfiguration())
        try await withServer(server) { port in
            let graders = try await HTTP.get(port: port, "/v1/graders")
            XCTAssertEqual(graders.status, 200)
            XCTAssertEqual(graders.json?["graders"]?.arrayValue?.first?["name"], "exact")
            XCTAssertEqual(graders.json?["graders"]?.arrayValue?.first?["manifest"]?["runtime"], "python")
            let health = try await HTTP.get(port: port, "/healthz")
            XCTAssertEqual(health.json?["status"], "ok")

            _ = try await HTTP.post(port: port, "/v1/graders/exact/invoke",
                                    json: [bedrockSample("1", answer: "4", reference: 4), bedrockSample("2", answer: "x", reference: "CRASH")])
            _ = try await HTTP.post(port: port, "/v1/graders/nope/invoke", json: [])
            let metrics = try await HTTP.get(port: port, "/metrics")
            XCTAssertEqual(metrics.status, 200)
            XCTAssertTrue(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") ?? false)
            let text = metrics.text
            for line in [
                #"rft_requests_total{endpoint="invoke",grader="exact",status="200"} 1"#,
                #"rft_requests_total{endpoint="invoke",grader="",status="404"} 1"#,
                #"rft_grader_samples_total{grader="exact",result="scored"} 1"#,
                #"rft_grader_samples_total{grader="exact",result="crash"} 1"#,
                #"rft_request_duration_seconds_count{endpoint="invoke",grader="exact"} 1"#,
                #"rft_request_duration_seconds_bucket{endpoint="invoke",grader="exact",le="+Inf"} 1"#,
                "rft_requests_in_flight 0",
                "rft_queue_depth 0",
                #"rft_grader_queue_depth{grader="exact"} 3"#,
                #"rft_grader_worker_restarts_total{grader="exact"} 2"#,
            ] {
                XCTAssertTrue(text.contains(line), "missing \(line) in\n\(text)")
            }
        }
    }
}

/// Collects the samples a scorer saw.
actor SampleLog {
    var samples: [Sample] = []
    func append(_ s: [Sample]) { samples += s }
}
