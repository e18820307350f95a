import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import GraderRuntime
@testable import RewardServer
import JSON

/// A scorer driven by a closure that writes output entries, standing in for the grader runtime.
final class ClosureScorer: Scorer, @unchecked Sendable {
    let graders: [ServedGrader]
    let body: @Sendable (String, [Sample]) async throws -> [JSONValue]
    var statsValue = ScorerStats()

    init(graders: [String] = ["exact"], _ body: @escaping @Sendable (String, [Sample]) async throws -> [JSONValue]) {
        self.graders = graders.map { ServedGrader(name: $0, manifest: ["name": .string($0), "runtime": "python"]) }
        self.body = body
    }

    /// The closure's entries as results: `aggregate_reward_score` (null: abstained), `error {type, message}`, `metrics_list`.
    func score(_ samples: [Sample], grader: String) async throws -> [RewardResult] {
        try await body(grader, samples).map { o in
            let id = o["id"]?.stringValue ?? ""
            let metrics = (o["metrics_list"]?.arrayValue ?? []).map {
                Metric(name: $0["name"]?.stringValue ?? "", value: $0["value"]?.doubleValue ?? 0, type: $0["type"]?.stringValue ?? "Metric")
            }
            let outcome: SampleResult.Outcome
            if let e = o["error"] {
                outcome = .failed(GraderError(GraderErrorType(rawValue: e["type"]?.stringValue ?? "") ?? .handlerError, e["message"]?.stringValue ?? ""))
            } else if let s = o["aggregate_reward_score"]?.doubleValue {
                outcome = .scored(s)
            } else {
                outcome = .abstained
            }
            return RewardResult(grader: grader, result: SampleResult(id: id, outcome: outcome, metrics: metrics))
        }
    }
    func stats() -> ScorerStats { statsValue }

    /// Scores 1 when the assistant's last message equals `reference_answer`, else 0; a sample whose
    /// reference is "CRASH" gets a `crash` error.
    static var exactMatch: ClosureScorer { ClosureScorer { _, samples in
        samples.map { s in
            let id = JSONValue.string(s.id)
            let answer = s.completionText ?? ""
            let ref = s.referenceAnswer
            if ref?.stringValue == "CRASH" { return ["id": id, "error": ["type": "crash", "message": "worker exited with signal 11"]] }
            let ok = ref?.stringValue == answer || (ref?.doubleValue != nil && Double(answer) == ref?.doubleValue)
            return ["id": id, "aggregate_reward_score": .number(ok ? 1 : 0),
                    "metrics_list": [["name": "accuracy", "value": .number(ok ? 1 : 0), "type": "Reward"],
                                     ["name": "length", "value": .number(Double(answer.count)), "type": "Metric"]]]
        }
    } }
}

/// A minimal HTTP client over URLSession for loopback tests.
struct HTTPResult {
    var status: Int
    var headers: [String: String]
    var body: Data
    var json: JSONValue? { try? JSONValue.parse(Array(body)) }
    var text: String { String(decoding: body, as: UTF8.self) }
    var errorMessage: String { json?["error"]?["message"]?.stringValue ?? "" }
}

enum HTTP {
    static let session: URLSession = {
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 60
        return URLSession(configuration: config)
    }()

    static func request(_ method: String, port: Int, _ path: String, body: Data? = nil,
                        headers: [String: String] = [:]) async throws -> HTTPResult {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields[String(describing: k).lowercased()] = String(describing: v) }
        return HTTPResult(status: http.statusCode, headers: fields, body: data)
    }

    static func post(port: Int, _ path: String, json: JSONValue, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await request("POST", port: port, path, body: Data(json.jsonBytes()), headers: headers)
    }

    static func get(port: Int, _ path: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await request("GET", port: port, path, headers: headers)
    }
}

/// A loopback configuration on an ephemeral port.
func loopbackConfiguration(_ edit: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
    var c = ServerConfiguration()
    c.host = "127.0.0.1"
    c.port = 0
    edit(&c)
    return c
}

/// Runs `body` against a started server, shutting it down afterwards.
func withServer(_ server: RewardServer, _ body: (Int) async throws -> Void) async throws {
    let running = try await server.start()
    do { try await body(running.port) } catch { try? await running.shutdown(); throw error }
    try await running.shutdown()
}

/// A sample in the Bedrock batch shape.
func bedrockSample(_ id: String, answer: String, reference: JSONValue) -> JSONValue {
    ["id": .string(id), "messages": [["role": "user", "content": "What is 2+2?"], ["role": "assistant", "content": .string(answer)]],
     "reference_answer": reference]
}

/// The repository root (for graders/clients and python scripts).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Waits for a detached task from synchronous code.
private func awaitBlocking<T: Sendable>(_ task: Task<T, Never>) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task { box.value = await task.value; done.signal() }
    done.wait()
    return box.value!
}

private final class ResultBox<T>: @unchecked Sendable { var value: T? }

/// Runs /usr/bin/python3 with `args`, returning exit status and output.
func runPython(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read stderr on another thread so a chatty child cannot block on a full pipe.
    let errReader = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = try awaitBlocking(errReader)
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}
