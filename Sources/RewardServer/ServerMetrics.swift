import Foundation
import GraderRuntime

/// Counters, gauges and latency histograms for `GET /metrics` (Prometheus text format 0.0.4).
public final class ServerMetrics: @unchecked Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    private struct Histogram {
        var counts = [Int](repeating: 0, count: ServerMetrics.buckets.count)
        var sum = 0.0
        var count = 0
    }

    private struct RequestKey: Hashable { var endpoint: String; var grader: String; var status: Int }
    private struct SampleKey: Hashable { var grader: String; var result: String }
    private struct LatencyKey: Hashable { var endpoint: String; var grader: String }

    private let lock = NSLock()
    private var requests: [RequestKey: Int] = [:]
    private var samples: [SampleKey: Int] = [:]
    private var latency: [LatencyKey: Histogram] = [:]
    private var inFlight = 0

    public init() {}

    func requestStarted() { lock.withLock { inFlight += 1 } }

    /// Records one finished request (`grader` is "" for endpoints that name none).
    func requestFinished(endpoint: String, grader: String, status: Int, seconds: Double) {
        lock.withLock {
            inFlight -= 1
            requests[RequestKey(endpoint: endpoint, grader: grader, status: status), default: 0] += 1
            guard !grader.isEmpty else { return }
            var h = latency[LatencyKey(endpoint: endpoint, grader: grader)] ?? Histogram()
            if let i = Self.buckets.firstIndex(where: { seconds <= $0 }) { h.counts[i] += 1 }
            h.sum += seconds
            h.count += 1
            latency[LatencyKey(endpoint: endpoint, grader: grader)] = h
        }
    }

    /// Records per-sample outcomes: "scored" or the error type.
    func samplesFinished(grader: String, results: [String: Int]) {
        lock.withLock {
            for (result, n) in results { samples[SampleKey(grader: grader, result: result), default: 0] += n }
        }
    }

    /// Requests being handled right now.
    public var requestsInFlight: Int { lock.withLock { inFlight } }

    /// The Prometheus exposition text, with the admission queue and runtime gauges appended.
    func render(admissionQueued: Int, admissionActive: Int, runtime: ScorerStats) -> String {
        lock.lock()
        defer { lock.unlock() }
        var out = ""
        out += "# HELP rft_requests_total HTTP requests by endpoint, grader and status code.\n"
        out += "# TYPE rft_requests_total counter\n"
        for (k, v) in requests.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            out += "rft_requests_total{endpoint=\"\(k.endpoint)\",grader=\"\(esc(k.grader))\",status=\"\(k.status)\"} \(v)\n"
        }
        out += "# HELP rft_grader_samples_total Samples by grader and result (scored, or the error type).\n"
        out += "# TYPE rft_grader_samples_total counter\n"
        for (k, v) in samples.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            out += "rft_grader_samples_total{grader=\"\(esc(k.grader))\",result=\"\(esc(k.result))\"} \(v)\n"
        }
        out += "# HELP rft_request_duration_seconds Request latency by endpoint and grader, queueing included.\n"
        out += "# TYPE rft_request_duration_seconds histogram\n"
        for (k, h) in latency.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            let labels = "endpoint=\"\(k.endpoint)\",grader=\"\(esc(k.grader))\""
            var cumulative = 0
            for (i, le) in Self.buckets.enumerated() {
                cumulative += h.counts[i]
                out += "rft_request_duration_seconds_bucket{\(labels),le=\"\(le)\"} \(cumulative)\n"
            }
            out += "rft_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(h.count)\n"
            out += "rft_request_duration_seconds_sum{\(labels)} \(h.sum)\n"
            out += "rft_request_duration_seconds_count{\(labels)} \(h.count)\n"
        }
        out += "# HELP rft_requests_in_flight HTTP requests being handled.\n# TYPE rft_requests_in_flight gauge\n"
        out += "rft_requests_in_flight \(inFlight)\n"
        out += "# HELP rft_batches_active Batches being scored.\n# TYPE rft_batches_active gauge\n"
        out += "rft_batches_active \(admissionActive)\n"
        out += "# HELP rft_queue_depth Batches waiting for a scoring slot in the server.\n# TYPE rft_queue_depth gauge\n"
        out += "rft_queue_depth \(admissionQueued)\n"
        out += "# HELP rft_grader_queue_depth Batches waiting for a worker, per grader.\n# TYPE rft_grader_queue_depth gauge\n"
        for (g, v) in runtime.queueDepth.sorted(by: { $0.key < $1.key }) {
            out += "rft_grader_queue_depth{grader=\"\(esc(g))\"} \(v)\n"
        }
        out += "# HELP rft_grader_worker_restarts_total Workers replaced after a crash, timeout or protocol break.\n"
        out += "# TYPE rft_grader_worker_restarts_total counter\n"
        for (g, v) in runtime.workerRestarts.sorted(by: { $0.key < $1.key }) {
            out += "rft_grader_worker_restarts_total{grader=\"\(esc(g))\"} \(v)\n"
        }
        return out
    }

    private func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
