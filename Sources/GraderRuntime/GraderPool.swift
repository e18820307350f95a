import Foundation
import Sandbox
#if canImport(Glibc)
import Glibc
#endif

/// A grader's warm, sandboxed workers: the in-process API the trainer and the reward server call.
///
/// ```swift
/// let pool = try GraderPool(directory: URL(fileURLWithPath: "graders/bedrock-lambda"))
/// defer { pool.shutdown() }
/// let results = pool.score(samples)   // one SampleResult per sample, in input order
/// ```
/// `score` is thread-safe and never throws: every per-sample problem comes back as a typed
/// ``GraderError``. Inputs larger than `batch_size` are split and spread over `concurrency` workers.
/// A batch that fails as a whole (the handler raised, the worker timed out, crashed or broke the protocol)
/// is split and run again until the sample that caused it is alone, so one poisonous sample cannot fail
/// its neighbours, and its error names it; a one-sample batch is retried `retries` times. When more than `queue_limit`
/// batches wait, the surplus gets `throttled` at once instead of queueing without bound.
public final class GraderPool: @unchecked Sendable {
    /// Per-pool settings that are not part of the manifest.
    public struct Options: Sendable {
        /// Start the warm workers when the pool is created, not on the first batch.
        public var prewarm: Bool
        /// Where values of allowlisted environment names without a fixed value come from.
        public var environment: [String: String]
        /// Called after every batch attempt (logs, latency); called on a worker thread.
        public var onBatch: (@Sendable (BatchLog) -> Void)?
        /// Attribute each batch's prints to it exactly (costs ~2 ms per python batch; for `--logs`).
        /// Without it, a python batch's log may hold prints the sandbox had not drained yet from the one before.
        public var captureLogs: Bool

        public init(prewarm: Bool = true, environment: [String: String] = ProcessInfo.processInfo.environment,
                    captureLogs: Bool = false, onBatch: (@Sendable (BatchLog) -> Void)? = nil) {
            self.prewarm = prewarm; self.environment = environment; self.captureLogs = captureLogs; self.onBatch = onBatch
        }
    }

    /// One batch attempt, as seen by `--logs` and `rft grader bench`.
    public struct BatchLog: Sendable {
        public var requestID: String
        public var ids: [String]
        /// 1 for the first try, 2 and up for retries.
        public var attempt: Int
        public var wallMs: Double
        public var stdout: String
        public var stderr: String
        /// Set when the whole batch failed.
        public var error: GraderError?
    }

    /// Counters since the pool started.
    public struct Stats: Sendable {
        public var batches = 0
        public var retries = 0
        public var throttledSamples = 0
        public var workerStarts = 0
        /// Milliseconds from spawning a worker to its handler being imported, per start.
        public var coldStartsMs: [Double] = []
        public var errors: [GraderErrorType: Int] = [:]
    }

    /// The validated manifest.
    public var manifest: GraderManifest { core.manifest }
    /// The grader directory (absolute, symlinks resolved).
    public var directory: URL { core.directory }
    private let core: PoolCore
    /// Manifest limits this machine enforces only by a weaker fallback (`memory_mb` without the
    /// memory cgroup, `cpu_ms_per_sec` without the cpu cgroup), with the reason. Non-empty only in
    /// degraded mode (otherwise the pool refuses to start); print them.
    public var unenforced: [String] { core.unenforced }

    /// Loads `DIR/grader.json` and starts `concurrency` sandboxed workers.
    /// - Throws: ``ManifestErrors`` for an invalid manifest, `SandboxError` when the sandbox policy is rejected.
    public convenience init(directory: URL, options: Options = Options()) throws {
        try self.init(manifest: GraderManifest.load(directory: directory), directory: directory, options: options)
    }

    /// Starts a pool for an already-validated manifest.
    public init(manifest: GraderManifest, directory: URL, options: Options = Options()) throws {
        core = try PoolCore(manifest: manifest, directory: directory, options: options)
    }

    /// Dropping the pool shuts it down.
    deinit { core.shutdown() }

    /// Scores samples; blocks until every sample has exactly one result (returned in input order).
    public func score(_ samples: [Sample]) -> [SampleResult] { core.score(samples) }

    /// Scores samples without blocking the caller's thread.
    public func score(_ samples: [Sample]) async -> [SampleResult] {
        let core = self.core
        return await withCheckedContinuation { (c: CheckedContinuation<[SampleResult], Never>) in
            DispatchQueue.global().async { c.resume(returning: core.score(samples)) }
        }
    }

    /// Starts one worker and runs the init phase (python: import the handler; exec: run an empty batch).
    /// Returns nil when the grader is ready, or the init error.
    public func validate() -> GraderError? { core.validate() }

    /// Times one cold start of a fresh sandboxed worker, in milliseconds (see `rft grader bench`).
    public func measureColdStart() -> Swift.Result<Double, GraderError> { core.measureColdStart() }

    /// A snapshot of the pool's counters.
    public var currentStats: Stats { core.currentStats }

    /// Stops accepting work, lets in-flight batches finish, gives queued ones `throttled`, then kills and
    /// reaps every worker and releases the sandbox. Idempotent.
    public func shutdown() { core.shutdown() }
}
