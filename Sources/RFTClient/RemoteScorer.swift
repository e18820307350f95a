import Foundation
import GraderRuntime
import JSON

/// Scores with a grader (or reward spec) served by `rft serve-rewards` on another machine, over HTTP:
/// one ``RewardResult`` per sample, the server's output and typed errors kept as it reported them.
///
/// ```swift
/// let remote = RemoteScorer(.init(url: URL(string: "http://grader-host:8080")!, grader: "math"))
/// let results = try await remote.score(samples, grader: "math")   // [RewardResult], input order
/// ```
/// A full queue (429, honouring `Retry-After`), a 5xx, or a dropped connection is retried up to
/// `retries` times with backoff. What remains failed becomes per-sample errors: `throttled` (the server
/// stayed busy), `timeout` (504 or no answer in time), `crash` (unreachable, 5xx) or `init_error`
/// (a 4xx such as an unknown grader or a rejected API key, which retrying cannot fix). A remote failure
/// never stops a training run by itself (``RewardResult/error`` stays nil; it is in the output).
public final class RemoteScorer: Scorer, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// The server's base URL, e.g. `http://10.0.0.5:8080`.
        public var url: URL
        /// The grader (or reward spec) name on the server.
        public var grader: String
        /// Bearer token, when the server was started with `--api-key-env`.
        public var apiKey: String?
        /// Retries after the first attempt.
        public var retries: Int
        /// Seconds to wait for one response.
        public var timeout: TimeInterval
        /// Samples per request; larger inputs are split and sent concurrently.
        public var maxBatch: Int

        public init(url: URL, grader: String, apiKey: String? = nil, retries: Int = 5, timeout: TimeInterval = 180,
                    maxBatch: Int = 256) {
            self.url = url; self.grader = grader; self.apiKey = apiKey
            self.retries = retries; self.timeout = timeout; self.maxBatch = maxBatch
        }
    }

    public let configuration: Configuration
    private let http: HTTPClient
    private let endpoint: URL

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        http = HTTPClient(timeout: configuration.timeout, maxConnectionsPerHost: 64)
        let name = configuration.grader.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? configuration.grader
        endpoint = configuration.url.appendingPathComponent("v1/graders/\(name)/invoke")
    }

    /// The one grader this scorer reaches, under its name on the server.
    public var graders: [ServedGrader] {
        [ServedGrader(name: configuration.grader, manifest: ["url": .string(configuration.url.absoluteString)])]
    }

    /// Scores samples with the remote grader; every sample gets exactly one result (in input order).
    /// - Throws: ``ScorerError/unknownGrader(_:)`` when `grader` is not the configured one.
    public func score(_ samples: [Sample], grader: String) async throws -> [RewardResult] {
        guard grader == configuration.grader else { throw ScorerError.unknownGrader(grader) }
        return await withCheckedContinuation { (c: CheckedContinuation<[RewardResult], Never>) in
            DispatchQueue.global().async {
                c.resume(returning: self.results(samples).map { RewardResult(grader: grader, result: $0) })
            }
        }
    }

    /// Blocks until every sample has exactly one result (in input order). Never throws.
    private func results(_ samples: [Sample]) -> [SampleResult] {
        if samples.isEmpty { return [] }
        let chunks = stride(from: 0, to: samples.count, by: max(1, configuration.maxBatch)).map {
            Array(samples[$0..<min($0 + configuration.maxBatch, samples.count)])
        }
        var results = [[SampleResult]](repeating: [], count: chunks.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: chunks.count) { i in
            let r = scoreChunk(chunks[i])
            lock.withLock { results[i] = r }
        }
        return results.flatMap { $0 }
    }

    private func scoreChunk(_ samples: [Sample]) -> [SampleResult] {
        let ids = samples.map(\.id)
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (i, s) in samples.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            JSONValue.object(s.record).write(into: &body)
        }
        body.append(UInt8(ascii: "]"))
        let request = Data(body)

        var lastFailure = GraderError(.crash, "no attempt was made")
        for attempt in 0...max(0, configuration.retries) {
            let where_ = "remote grader \(configuration.grader) at \(configuration.url.absoluteString)"
            let response: HTTPClient.Response
            switch http.postJSON(endpoint, body: request, apiKey: configuration.apiKey) {
            case .success(let r): response = r
            case .failure(let failure):
                lastFailure = GraderError(failure.timedOut ? .timeout : .crash, "\(where_): \(failure.description)")
                backoff(attempt, retryAfter: nil)
                continue
            }
            let data: Data? = response.body
            let status = response.status
            let message = Self.errorMessage(data) ?? "HTTP \(status)"
            switch status {
            case 200:
                return Self.results(from: data, ids: ids, source: where_)
            case 429:
                lastFailure = GraderError(.throttled, "\(where_): \(message)")
                backoff(attempt, retryAfter: response.retryAfter)
            case 504:
                return ids.map { .failed($0, .timeout, "\(where_): \(message)") }
            case 500...:
                lastFailure = GraderError(.crash, "\(where_): HTTP \(status): \(message)")
                backoff(attempt, retryAfter: nil)
            default:
                return ids.map { .failed($0, .initError, "\(where_): HTTP \(status): \(message)") }
            }
        }
        return ids.map { SampleResult(id: $0, outcome: .failed(lastFailure)) }
    }

    private func backoff(_ attempt: Int, retryAfter: Double?) {
        guard attempt < configuration.retries else { return }
        let seconds = retryAfter ?? min(8, 0.1 * pow(2, Double(attempt)))
        Thread.sleep(forTimeInterval: seconds * Double.random(in: 0.8...1.2))
    }

    /// The server's `{"error": {"message"}}`, if any.
    private static func errorMessage(_ data: Data?) -> String? {
        guard let data, let json = try? JSONValue.parse(Array(data)) else { return nil }
        return json["error"]?["message"]?.stringValue
    }

    /// Checks the output list as a local grader's output is checked, keeping the server's error types.
    static func results(from data: Data?, ids: [String], source: String) -> [SampleResult] {
        guard let data, let output = try? JSONValue.parse(Array(data)) else {
            return ids.map { .failed($0, .invalidOutput, "\(source): the response is not JSON") }
        }
        var typed: [String: GraderError] = [:]
        for entry in output.arrayValue ?? [] {
            guard let id = entry["id"]?.stringValue, let err = entry["error"], !err.isNull else { continue }
            let type = err["type"]?.stringValue.flatMap(GraderErrorType.init(rawValue:)) ?? .handlerError
            typed[id] = GraderError(type, err["message"]?.stringValue ?? err.jsonString)
        }
        return OutputChecker().check(output, ids: ids).map { r in
            if r.error != nil, let e = typed[r.id] { return SampleResult(id: r.id, outcome: .failed(e)) }
            return r
        }
    }
}
