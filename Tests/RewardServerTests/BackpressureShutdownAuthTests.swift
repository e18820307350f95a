import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import GraderRuntime
@testable import RewardServer
import JSON

/// A gate the test opens to let blocked scorer calls finish, and a signal when each call starts.
final class Latch: @unchecked Sendable {
    private let lock = NSLock()
    private var open = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    let started = AsyncStream<Void>.makeStream()

    func wait() async {
        started.continuation.yield()
        await withCheckedContinuation { c in
            let go: Bool = lock.withLock { if open { return true }; waiting.append(c); return false }
            if go { c.resume() }
        }
    }

    func release() {
        let all: [CheckedContinuation<Void, Never>] = lock.withLock { open = true; defer { waiting = [] }; return waiting }
        all.forEach { $0.resume() }
    }
}

final class BackpressureShutdownAuthTests: XCTestCase {
    private func blockingScorer(_ latch: Latch) -> ClosureScorer {
        ClosureScorer { _, samples in
            await latch.wait()
            return samples.map { ["id": .string($0.id), "aggregate_reward_score": 1.0] }
        }
    }

    func testFullQueueIs429WithRetryAfterNeverAnUnboundedWait() async throws {
        let latch = Latch()
        let config = loopbackConfiguration { $0.maxConcurrentBatches = 1; $0.maxQueuedBatches = 1; $0.retryAfterSeconds = 3 }
        let server = RewardServer(scorer: blockingScorer(latch), configuration: config)
        try await withServer(server) { port in
            var starts = latch.started.stream.makeAsyncIterator()
            let first = Task { try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [["id": "1"]]) }
            _ = await starts.next()  // the first batch holds the only slot
            let second = Task { try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [["id": "2"]]) }
            // Wait until the second batch is queued.
            for _ in 0..<200 where !(try await HTTP.get(port: port, "/metrics").text.contains("rft_queue_depth 1")) {
                try await Task.sleep(for: .milliseconds(10))
            }
            let third = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [["id": "3"]])
            XCTAssertEqual(third.status, 429)
            XCTAssertEqual(third.headers["retry-after"], "3")
            XCTAssertEqual(third.json?["error"]?["type"], "throttled")
            let getReward = try await HTTP.post(port: port, "/get_reward", json: ["query": ["x"], "prompts": [""]])
            XCTAssertEqual(getReward.status, 429)

            latch.release()
            let r1 = try await first.value, r2 = try await second.value
            XCTAssertEqual(r1.status, 200)
            XCTAssertEqual(r2.status, 200)
            XCTAssertEqual(r2.json?.arrayValue?.first?["id"], "2")
            let metrics = try await HTTP.get(port: port, "/metrics").text
            XCTAssertTrue(metrics.contains(#"rft_requests_total{endpoint="invoke",grader="exact",status="429"} 1"#), metrics)
        }
    }

    func testGracefulShutdownDrainsInFlightAndRefusesNewConnections() async throws {
        let latch = Latch()
        let running = try await RewardServer(scorer: blockingScorer(latch), configuration: loopbackConfiguration()).start()
        let port = running.port
        var starts = latch.started.stream.makeAsyncIterator()
        let inFlight = Task { try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [["id": "draining"]]) }
        _ = await starts.next()
        let stopped = Task { try await running.shutdown() }
        try await Task.sleep(for: .milliseconds(300))

        // No new connections while draining.
        let fresh = URLSession(configuration: .ephemeral)
        do {
            _ = try await fresh.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!)
            XCTFail("a new connection was accepted during shutdown")
        } catch {}

        // The in-flight request still gets its answer, and only then does the server stop.
        latch.release()
        let r = try await inFlight.value
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.json?.arrayValue?.first?["aggregate_reward_score"], 1.0)
        try await stopped.value
    }

    func testBearerAuth() async throws {
        let config = loopbackConfiguration { $0.apiKey = "s3cret-token" }
        let server = RewardServer(scorer: ClosureScorer.exactMatch, configuration: config)
        try await withServer(server) { port in
            let batch: JSONValue = [bedrockSample("1", answer: "4", reference: 4)]
            let none = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: batch)
            XCTAssertEqual(none.status, 401)
            XCTAssertEqual(none.headers["www-authenticate"], "Bearer")
            let wrong = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: batch,
                                            headers: ["Authorization": "Bearer s3cret-tokeN"])
            XCTAssertEqual(wrong.status, 401)
            let metricsDenied = try await HTTP.get(port: port, "/metrics")
            XCTAssertEqual(metricsDenied.status, 401)
            let ok = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: batch,
                                         headers: ["Authorization": "Bearer s3cret-token"])
            XCTAssertEqual(ok.status, 200)
            // Load balancers probe health without credentials.
            let health = try await HTTP.get(port: port, "/healthz")
            XCTAssertEqual(health.status, 200)
        }
    }

    func testNonLoopbackBindNeedsAuthOrInsecure() async throws {
        var config = ServerConfiguration()
        config.host = "0.0.0.0"
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertEqual(error as? ServerConfigurationError, .publicBindWithoutAuth("0.0.0.0"))
            XCTAssertTrue("\(error)".contains("--api-key-env"))
        }
        do {
            _ = try await RewardServer(scorer: ClosureScorer.exactMatch, configuration: config).start()
            XCTFail("started on 0.0.0.0 without auth")
        } catch {}
        config.apiKey = "k"
        XCTAssertNoThrow(try config.validate())
        config.apiKey = nil
        config.insecure = true
        XCTAssertNoThrow(try config.validate())
        XCTAssertTrue(ServerConfiguration.isLoopback("127.0.0.1"))
        XCTAssertTrue(ServerConfiguration.isLoopback("::1"))
        XCTAssertFalse(ServerConfiguration.isLoopback("10.0.0.1"))
    }
}
