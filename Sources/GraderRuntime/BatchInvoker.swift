import Foundation
import Sandbox

/// What one attempt at a batch produced.
struct BatchAttempt {
    enum Result {
        /// Per-sample results, already checked against the batch contract.
        case checked([SampleResult])
        /// The whole batch failed (the worker timed out, died, or the handler raised).
        case failed(GraderError)
    }
    var result: Result
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    /// Milliseconds from sending the batch to having its answer.
    var wallMs: Double = 0
}

/// One concurrency slot's way of running batches: a warm Python worker, or a process per batch.
protocol BatchInvoker: AnyObject {
    /// Starts whatever can be started ahead of the first batch; returns the cold start in ms, or the init error.
    func prewarm() -> Swift.Result<Double, GraderError>
    /// Whether a batch would run without starting anything first.
    var isWarm: Bool { get }
    /// Runs one batch. Never throws: every failure is typed.
    ///
    /// - Parameter lookahead: called once the answer has arrived and before it is checked; a batch it
    ///   returns is sent to the (now idle) worker right away, so checking this answer overlaps with the
    ///   worker's next batch. The caller must pass that batch to `invoke` next.
    func invoke(_ batch: [Sample], requestID: String, lookahead: (() -> (batch: [Sample], requestID: String)?)?) -> BatchAttempt
    /// Stops any live process and reaps it.
    func shutdown()
}

/// The sandbox policy for a manifest.
func sandboxPolicy(for m: GraderManifest, directory: URL, warm: Bool, passthrough: [String: String]) -> SandboxPolicy {
    var p = SandboxPolicy.grader
    // A warm worker lives across many batches: the runtime enforces per-batch deadlines itself.
    p.wallTimeoutMs = warm ? nil : m.timeoutMs
    if warm { p.cpuTimeMs = nil }
    p.memoryMB = m.memoryMB
    p.cpuMsPerSec = m.cpuMsPerSec
    p.allowDegraded = m.allowDegraded
    p.network = m.network ? .host : .none
    p.readOnlyPaths.append(directory.path)
    var env: [String: String] = [:]
    for (name, value) in m.environment {
        if let value { env[name] = value } else if let v = passthrough[name] { env[name] = v }
    }
    // The resolved values only: naming them in allowEnv too would make the launcher copy this
    // process's own values over them (a fixed manifest value, or the test server's URL).
    p.environment.merge(env) { $1 }
    return p
}

/// Batch JSON with one sample per line inside the list, so line-oriented tools (sh, awk) can read it.
func batchJSON(_ batch: [Sample]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(batch.reduce(4) { $0 + $1.encoded.count + 2 })
    appendBatchJSON(batch, to: &out)
    return out
}

/// Appends ``batchJSON(_:)`` to `out`.
func appendBatchJSON(_ batch: [Sample], to out: inout [UInt8]) {
    out.append(contentsOf: [UInt8(ascii: "["), 0x0A])
    for (i, s) in batch.enumerated() {
        out.append(contentsOf: s.encoded)
        out.append(contentsOf: i + 1 < batch.count ? [UInt8(ascii: ","), 0x0A] : [0x0A])
    }
    out.append(contentsOf: [UInt8(ascii: "]"), 0x0A])
}
