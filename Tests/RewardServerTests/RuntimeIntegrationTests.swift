import Foundation
import GraderRuntime
import XCTest
@testable import RewardServer
import JSON

/// The server on the real grader runtime: sandboxed Python workers, reward specs, crashing workers,
/// and the Python clients from graders/clients.
final class RuntimeIntegrationTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("rft-server-\(UUID().uuidString)")
        // A Bedrock-style grader: exact match on reference_answer; a sample with "crash": true kills its worker.
        try writeGrader("exact", manifest: #"{"name": "exact", "runtime": "python", "handler": "grade.lambda_handler", "concurrency": 3, "batch_size": 4, "retries": 2}"#, code: """
        import os, signal

        def lambda_handler(event, context):
            out = []
            for s in event:
                if s.get("crash"):
                    os.kill(os.getpid(), signal.SIGSEGV)
                answer = s["messages"][-1]["content"].strip()
                ref = s.get("reference_answer", (s.get("metadata") or {}).get("reference_answer"))
                ok = 1.0 if str(ref) == answer else 0.0
                out.append({"id": s["id"], "aggregate_reward_score": ok,
                            "metrics_list": [{"name": "accuracy", "value": ok, "type": "Reward"}]})
            return out
        """)
        // A TRL-style reward function: length of the completion, capped at 1.
        try writeGrader("short", manifest: #"{"name": "short", "runtime": "python", "handler": "grade.reward", "contract": "trl"}"#, code: """
        def reward(prompts, completions, **kwargs):
            return [1.0 if len(c) <= 5 else 0.0 for c in completions]
        """)
        try Data(#"{"graders": [{"path": "exact", "weight": 1.0}, {"path": "short", "weight": 0.5}]}"#.utf8)
            .write(to: root.appendingPathComponent("reward.json"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    private func writeGrader(_ name: String, manifest: String, code: String) throws {
        let dir = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(manifest.utf8).write(to: dir.appendingPathComponent("grader.json"))
        try Data(code.utf8).write(to: dir.appendingPathComponent("grade.py"))
    }

    func testServesGraderDirectoriesWithTypedErrorsAsGraderInvoke() async throws {
        let scorer = try SandboxScorer(path: root.appendingPathComponent("exact"))
        defer { scorer.shutdown() }
        XCTAssertEqual(scorer.graders.map(\.name), ["exact"])
        let server = RewardServer(scorer: scorer, configuration: loopbackConfiguration())
        try await withServer(server) { port in
            let listing = try await HTTP.get(port: port, "/v1/graders")
            XCTAssertEqual(listing.json?["graders"]?.arrayValue?.first?["manifest"]?["handler"], "grade.lambda_handler")
            let batch: JSONValue = [
                bedrockSample("a", answer: "4", reference: "4"),
                bedrockSample("b", answer: "5", reference: "4"),
                ["id": 7, "messages": [["role": "assistant", "content": "x"]], "metadata": ["reference_answer": "x"]],
            ]
            let r = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: batch)
            XCTAssertEqual(r.status, 200, r.text)
            // Exactly what `rft grader invoke` prints for the same samples.
            let samples = try Sample.read(batch.jsonBytes(), source: "test")
            let pool = try GraderPool(directory: root.appendingPathComponent("exact"))
            defer { pool.shutdown() }
            let direct: [SampleResult] = await pool.score(samples)
            XCTAssertEqual(r.json?.arrayValue, direct.map(\.json))
            XCTAssertEqual(r.json?.arrayValue?.map { $0["aggregate_reward_score"] }, [1, 0, 1])
        }
    }

    func testKeepsServingWhileAThirdOfItsWorkersCrash() async throws {
        let scorer = try SandboxScorer(path: root)  // both graders in the directory
        defer { scorer.shutdown() }
        XCTAssertEqual(scorer.graders.map(\.name), ["exact", "short"])
        let server = RewardServer(scorer: scorer, configuration: loopbackConfiguration())
        try await withServer(server) { port in
            // 12 concurrent requests of 4 samples; every third request holds a sample that kills its worker.
            let results = try await withThrowingTaskGroup(of: (Int, HTTPResult).self) { group in
                for r in 0..<12 {
                    group.addTask {
                        let batch = JSONValue.array((0..<4).map { i in
                            var s = bedrockSample("r\(r)-\(i)", answer: "4", reference: "4")
                            if r % 3 == 0 && i == 1, case .object(var o) = s { o["crash"] = true; s = .object(o) }
                            return s
                        })
                        return (r, try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: batch))
                    }
                }
                var all: [(Int, HTTPResult)] = []
                for try await x in group { all.append(x) }
                return all
            }
            XCTAssertEqual(results.count, 12)
            for (r, response) in results {
                XCTAssertEqual(response.status, 200, response.text)
                let out = try XCTUnwrap(response.json?.arrayValue)
                XCTAssertEqual(out.map { $0["id"]?.stringValue }, (0..<4).map { "r\(r)-\($0)" })
                for (i, o) in out.enumerated() {
                    if r % 3 == 0 && i == 1 {
                        XCTAssertEqual(o["error"]?["type"], "crash", o.jsonString)
                    } else {
                        XCTAssertEqual(o["aggregate_reward_score"], 1, o.jsonString)
                    }
                }
            }
            let health = try await HTTP.get(port: port, "/healthz")
            XCTAssertEqual(health.status, 200)
            let after = try await HTTP.post(port: port, "/v1/graders/exact/invoke", json: [bedrockSample("z", answer: "1", reference: "1")])
            XCTAssertEqual(after.json?.arrayValue?.first?["aggregate_reward_score"], 1)
            let metrics = try await HTTP.get(port: port, "/metrics").text
            XCTAssertTrue(metrics.contains(#"rft_grader_samples_total{grader="exact",result="crash"} 4"#), metrics)
            XCTAssertTrue(metrics.contains(#"rft_grader_samples_total{grader="exact",result="scored"} 45"#), metrics)
            let restarts = metrics.split(separator: "\n").first { $0.hasPrefix(#"rft_grader_worker_restarts_total{grader="exact"}"#) }
            XCTAssertGreaterThanOrEqual(Int(restarts?.split(separator: " ").last ?? "") ?? 0, 4, metrics)
        }
    }

    func testRewardSpecWithOpenRLHFClientShardedOverTwoServers() async throws {
        let scorer = try SandboxScorer(path: root.appendingPathComponent("reward.json"))
        defer { scorer.shutdown() }
        XCTAssertEqual(scorer.graders.map(\.name), ["reward"])
        let a = try await RewardServer(scorer: scorer, configuration: loopbackConfiguration()).start()
        let b = try await RewardServer(scorer: scorer, configuration: loopbackConfiguration()).start()
        let request: JSONValue = [
            "query": ["Q: 2+2? A: 4", "Q: 2+2? A: four", "Q: 3+3? A: 6", "Q: 1+1? A: 3"],
            "prompts": ["Q: 2+2? A: ", "Q: 2+2? A: ", "Q: 3+3? A: ", "Q: 1+1? A: "],
            "labels": ["4", "4", "6", "2"],
        ]
        let file = root.appendingPathComponent("request.json")
        try Data(request.jsonBytes()).write(to: file)
        let urls = "http://127.0.0.1:\(a.port)/get_reward,http://127.0.0.1:\(b.port)/get_reward"
        let run = try runPython([repositoryRoot.appendingPathComponent("graders/clients/openrlhf_client.py").path, urls, file.path])
        try await a.shutdown()
        try await b.shutdown()
        XCTAssertEqual(run.status, 0, run.stderr)
        let out = try JSONValue.parse(run.stdout)
        // reward = exact + 0.5 * short (4 <= 5 chars gets 1, "four" too: 4 chars).
        XCTAssertEqual(out["rewards"], [1.5, 0.5, 1.5, 0.5])
        XCTAssertEqual(out["extra_logs"]?["exact"], [1, 0, 1, 0])
        XCTAssertEqual(out["extra_logs"]?["short"], [1, 1, 1, 1])
        XCTAssertEqual(out["extra_logs"]?["grader_error"], [0, 0, 0, 0])
    }

    func testTRLRewardFunctionSnippet() async throws {
        let scorer = try SandboxScorer(path: root)
        defer { scorer.shutdown() }
        let server = RewardServer(scorer: scorer, configuration: loopbackConfiguration { $0.apiKey = "tok" })
        try await withServer(server) { port in
            let script = """
            import sys
            sys.path.insert(0, sys.argv[1])
            from trl_reward import rft_reward
            exact = rft_reward(f"http://127.0.0.1:{sys.argv[2]}", "exact")
            # Conversational and plain completions, with a dataset column TRL passes as a keyword.
            print(exact([[{"role": "user", "content": "2+2?"}], "3+3?"],
                        [[{"role": "assistant", "content": "4"}], "7"],
                        reference_answer=["4", "6"], trainer_state=object()))
            """
            let run = try runPython(["-c", script, repositoryRoot.appendingPathComponent("graders/clients").path, String(port)],
                                    environment: ["RFT_API_KEY": "tok"])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[1.0, 0.0]")
        }
    }

    /// graders/clients/verl_reward.py loaded by path as verl loads a custom reward function, in both of
    /// verl's call forms, against a verl-contract grader; the first request meets a 503 from a loopback
    /// front (which passes every later request on to the server) and is retried.
    func testVerlRewardFunctionBothFormsWithARetry() async throws {
        try writeGrader("verl", manifest: #"{"name": "verl", "runtime": "python", "handler": "grade.compute_score", "contract": "verl"}"#, code: """
        def compute_score(data_source, solution_str, ground_truth, extra_info=None):
            right = 1.0 if solution_str.strip() == str(ground_truth) else 0.0
            return right + (0.5 if data_source == "gsm8k" else 0.0) + (extra_info or {}).get("bonus", 0)
        """)
        let scorer = try SandboxScorer(path: root.appendingPathComponent("verl"))
        defer { scorer.shutdown() }
        let server = RewardServer(scorer: scorer, configuration: loopbackConfiguration { $0.apiKey = "tok" })
        try await withServer(server) { port in
            let script = """
            import importlib.util, json, os, sys, threading, urllib.request
            from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
            spec = importlib.util.spec_from_file_location("custom_module", sys.argv[1])
            verl = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(verl)
            seen = []

            class Front(BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers["Content-Length"]))
                    seen.append(self.path)
                    if len(seen) == 1:
                        self.send_response(503)
                        self.send_header("Retry-After", "0")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    headers = {"Content-Type": "application/json", "Authorization": self.headers["Authorization"]}
                    upstream = urllib.request.Request(f"http://127.0.0.1:{sys.argv[2]}{self.path}", body, headers)
                    with urllib.request.urlopen(upstream) as r:
                        out = r.read()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)

                def log_message(self, *args):
                    pass

            front = ThreadingHTTPServer(("127.0.0.1", 0), Front)
            threading.Thread(target=front.serve_forever, daemon=True).start()
            os.environ["RFT_REWARD_URL"] = f"http://127.0.0.1:{front.server_port}"
            single = verl.compute_score("gsm8k", "42", "42", extra_info={"bonus": 0.25})
            batch = verl.compute_score(data_sources=["gsm8k", "math", "math"], solution_strs=["1", "2", "3"],
                                       ground_truths=["1", "2", "4"], extra_infos=[None, {"bonus": 2}, {}])
            front.shutdown()
            print(json.dumps({"single": single, "batch": batch, "requests": seen}))
            """
            let client = repositoryRoot.appendingPathComponent("graders/clients/verl_reward.py").path
            let run = try runPython(["-c", script, client, String(port)],
                                    environment: ["RFT_GRADER": "verl", "RFT_API_KEY": "tok"])
            XCTAssertEqual(run.status, 0, run.stderr)
            let out = try JSONValue.parse(run.stdout)
            XCTAssertEqual(out["single"], 1.75, "right, gsm8k and the extra_info bonus: \(run.stdout)")
            XCTAssertEqual(out["batch"], [1.5, 3, 0], run.stdout)
            XCTAssertEqual(out["requests"]?.arrayValue?.count, 3, "the 503, its retry, the batch in one request: \(run.stdout)")
            XCTAssertEqual(out["requests"]?.arrayValue?.first, "/v1/graders/verl/invoke")
        }
    }

    func testSIGTERMDrainsInFlightRequests() async throws {
        let latch = Latch()
        let scorer = ClosureScorer { _, samples in
            await latch.wait()
            return samples.map { ["id": .string($0.id), "aggregate_reward_score": 1.0] }
        }
        let running = try await RewardServer(scorer: scorer, configuration: loopbackConfiguration()).start(signals: [.sigterm])
        var starts = latch.started.stream.makeAsyncIterator()
        let inFlight = Task { try await HTTP.post(port: running.port, "/v1/graders/exact/invoke", json: [["id": "1"]]) }
        _ = await starts.next()
        kill(getpid(), SIGTERM)  // the server's handler takes it; the test process keeps running
        try await Task.sleep(for: .milliseconds(300))
        latch.release()
        let r = try await inFlight.value
        XCTAssertEqual(r.status, 200)
        try await running.wait()
    }
}
