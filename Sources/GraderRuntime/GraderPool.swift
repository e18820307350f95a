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

/// The pool's state and worker threads (the threads hold this, never the public ``GraderPool``).
final class PoolCore: @unchecked Sendable {
    let manifest: GraderManifest
    let directory: URL
    let unenforced: [String]
    private let options: GraderPool.Options
    private let cond = NSCondition()
    private var queue: [Job] = []
    private var queueHead = 0
    private var closing = false
    private var closed = false
    private var consecutiveInitFailures = 0
    private var initFailure: GraderError?
    private var stats = GraderPool.Stats()
    private var requestCounter = 0
    private let threadsDone = DispatchGroup()
    private var invokers: [BatchInvoker]
    /// Released at shutdown, so a stopped pool holds no sandbox slots (uids, cgroups, descriptors).
    private var sandbox: Sandbox?
    /// Runs untrusted code for the workers when the manifest opts in (`"exec"`).
    private let execService: ExecService?

    /// Starts a pool for an already-validated manifest.
    init(manifest: GraderManifest, directory: URL, options: GraderPool.Options) throws {
        signal(SIGPIPE, SIG_IGN)  // a worker that dies mid-write must not take the runtime down
        let dir = directory.standardizedFileURL.resolvingSymlinksInPath()
        self.manifest = manifest
        self.directory = dir
        self.options = options
        let warm = manifest.runtime == .python
        let policy = sandboxPolicy(for: manifest, directory: dir, warm: warm, passthrough: options.environment)
        // One sandbox per pool: it is thread-safe and hands each concurrent worker its own slot
        // (uid, cgroups, network namespace).
        let sandbox = try Sandbox(policy: policy)
        self.sandbox = sandbox
        let execService = manifest.exec.map { ExecService(settings: $0) }
        self.execService = execService
        unenforced = sandbox.unenforced.map {
            $0.replacingOccurrences(of: "cpuMsPerSec", with: "cpu_ms_per_sec").replacingOccurrences(of: "memoryMB", with: "memory_mb")
        }
        var invokers: [BatchInvoker] = []
        for _ in 0..<manifest.concurrency {
            invokers.append(warm ? PythonWorker(manifest: manifest, directory: dir, sandbox: sandbox, settleLogs: options.captureLogs, exec: execService)
                                 : ExecInvoker(manifest: manifest, directory: dir, sandbox: sandbox, exec: execService))
        }
        self.invokers = invokers
        for (slot, invoker) in self.invokers.enumerated() {
            threadsDone.enter()
            // The thread holds the core, not the public pool, so dropping the pool can shut it down.
            let t = Thread { [self] in self.slotLoop(slot: slot, invoker: invoker) }
            t.name = "rft-grader-\(manifest.name)-\(slot)"
            t.start()
        }
    }

    /// Scores samples; blocks until every sample has exactly one result (returned in input order).
    func score(_ samples: [Sample]) -> [SampleResult] {
        if samples.isEmpty { return [] }
        let collector = Collector(ids: samples.map(\.id))
        var jobs: [Job] = []
        for batch in PoolCore.batches(samples, size: manifest.batchSize) {
            jobs.append(Job(samples: batch.map { samples[$0] }, indexes: batch, retriesLeft: manifest.retries,
                            attempt: 1, collector: collector))
        }
        cond.lock()
        for job in jobs {
            if closing {
                job.finish(job.samples.map { .failed($0.id, .throttled, "the grader pool is shut down") })
                stats.throttledSamples += job.samples.count
            } else if queue.count - queueHead >= manifest.queueLimit {
                job.finish(job.samples.map {
                    .failed($0.id, .throttled, "\(manifest.name): more than queue_limit \(manifest.queueLimit) batches are waiting")
                })
                stats.throttledSamples += job.samples.count
            } else {
                queue.append(job)
            }
        }
        cond.broadcast()
        cond.unlock()
        return collector.wait()
    }

    /// Starts one worker and runs the init phase (python: import the handler; exec: run an empty batch).
    /// Returns nil when the grader is ready, or the init error.
    func validate() -> GraderError? {
        cond.lock()
        let inv = invokers.first, sandbox = self.sandbox
        cond.unlock()
        guard let inv, let sandbox else { return GraderError(.throttled, "the grader pool is shut down") }
        if manifest.runtime == .python {
            // Use a fresh worker so a warm one does not hide an import problem.
            let probe = PythonWorker(manifest: manifest, directory: directory, sandbox: sandbox, exec: execService)
            defer { probe.shutdown() }
            if case .failure(let e) = probe.prewarm() { return e }
            return nil
        }
        let attempt = inv.invoke([], requestID: "validate", lookahead: nil)
        switch attempt.result {
        case .failed(let e): return e
        case .checked: return nil
        }
    }

    /// Times one cold start of a fresh sandboxed worker (python: spawn to handler imported; exec: an
    /// empty batch end to end), in milliseconds. Used by `rft grader bench`. Probes use the pool's sandbox, so
    /// only the first pays the one-time slot setup (uid, cgroups, network namespace), as a pool's
    /// replacement workers do.
    func measureColdStart() -> Swift.Result<Double, GraderError> {
        cond.lock()
        let sandbox = self.sandbox
        cond.unlock()
        guard let sandbox else { return .failure(GraderError(.throttled, "the grader pool is shut down")) }
        if manifest.runtime == .python {
            let probe = PythonWorker(manifest: manifest, directory: directory, sandbox: sandbox, exec: execService)
            defer { probe.shutdown() }
            return probe.prewarm()
        }
        let attempt = ExecInvoker(manifest: manifest, directory: directory, sandbox: sandbox, exec: execService).invoke([], requestID: "cold-start", lookahead: nil)
        if case .failed(let e) = attempt.result { return .failure(e) }
        return .success(attempt.wallMs)
    }

    private var isClosing: Bool { cond.lock(); defer { cond.unlock() }; return closing || initFailure != nil }

    /// A snapshot of the pool's counters.
    var currentStats: GraderPool.Stats { cond.lock(); defer { cond.unlock() }; return stats }

    /// Stops accepting work, lets in-flight batches finish, gives queued ones `throttled`, then kills and
    /// reaps every worker. Idempotent.
    func shutdown() {
        cond.lock()
        if closed { cond.unlock(); return }
        closed = true
        closing = true
        let pending = Array(queue[queueHead...])
        queue.removeAll()
        queueHead = 0
        // Failed parts waiting for a part that will now never run end with their own error.
        var waiting: [(Job, GraderError)] = []
        for job in pending {
            if let s = job.sibling, let p = s.node.pending { s.node.pending = nil; waiting.append(p) }
        }
        cond.broadcast()
        cond.unlock()
        for job in pending { job.finish(job.samples.map { .failed($0.id, .throttled, "the grader pool is shut down") }) }
        for (j, err) in waiting { j.finish(j.samples.map { SampleResult(id: $0.id, outcome: .failed(err)) }) }
        threadsDone.wait()
        cond.lock()
        invokers = []
        sandbox?.close() // its cgroups are gone before shutdown returns, even if the process exits next
        sandbox = nil
        cond.unlock()
    }

    // MARK: - Workers

    private func slotLoop(slot: Int, invoker: BatchInvoker) {
        defer { invoker.shutdown(); threadsDone.leave() }
        if options.prewarm && manifest.runtime == .python { recordStart(invoker.prewarm()) }
        // A batch taken by the lookahead (and already sent to this slot's worker) runs next, even when closing.
        var pending: (job: Job, requestID: String)?
        let lookahead: () -> (batch: [Sample], requestID: String)? = { [self] in
            cond.lock()
            defer { cond.unlock() }
            guard !closing, initFailure == nil, queueHead < queue.count else { return nil }
            let next = takeJob(slot: slot)
            pending = next
            return (next.job.samples, next.requestID)
        }
        while true {
            let job: Job, requestID: String
            if let p = pending {
                (job, requestID) = p
                pending = nil
            } else {
                cond.lock()
                while queueHead == queue.count && !closing { cond.wait() }
                if queueHead == queue.count {
                    cond.unlock()
                    return
                }
                (job, requestID) = takeJob(slot: slot)
                let cachedInitFailure = initFailure
                var waiting: (Job, GraderError)?
                if cachedInitFailure != nil, let s = job.sibling, let p = s.node.pending { s.node.pending = nil; waiting = p }
                cond.unlock()
                if let e = cachedInitFailure {
                    job.finish(job.samples.map { SampleResult(id: $0.id, outcome: .failed(e)) })
                    if let (j, err) = waiting { j.finish(j.samples.map { SampleResult(id: $0.id, outcome: .failed(err)) }) }
                    continue
                }
            }
            run(job, invoker: invoker, requestID: requestID, lookahead: manifest.runtime == .python ? lookahead : nil)
            // Replace a worker that was killed or recycled now, not when the next batch is already waiting.
            if pending == nil && options.prewarm && !invoker.isWarm && !isClosing { recordStart(invoker.prewarm()) }
        }
    }

    /// Pops the next job (call with `cond` held).
    private func takeJob(slot: Int) -> (job: Job, requestID: String) {
        let job = queue[queueHead]
        queueHead += 1
        if queueHead > 1024 && queueHead * 2 > queue.count { queue.removeFirst(queueHead); queueHead = 0 }
        requestCounter += 1
        stats.batches += 1
        return (job, "\(manifest.name)-\(slot)-\(requestCounter)")
    }

    private func run(_ job: Job, invoker: BatchInvoker, requestID: String,
                     lookahead: (() -> (batch: [Sample], requestID: String)?)?) {
        let attempt = invoker.invoke(job.samples, requestID: requestID, lookahead: lookahead)
        var batchError: GraderError?
        if case .failed(let e) = attempt.result { batchError = e }
        if let onBatch = options.onBatch {
            onBatch(GraderPool.BatchLog(requestID: requestID, ids: job.samples.map(\.id), attempt: job.attempt, wallMs: attempt.wallMs,
                             stdout: String(decoding: attempt.stdout, as: UTF8.self),
                             stderr: String(decoding: attempt.stderr, as: UTF8.self), error: batchError))
        }
        switch attempt.result {
        case .checked(let results):
            cond.lock()
            consecutiveInitFailures = 0
            for r in results { if let e = r.error { stats.errors[e.type, default: 0] += 1 } }
            var abandoned: (Job, GraderError)?
            if let s = job.sibling {
                // Once every other part is fine, a waiting failed part holds the culprit: keep searching there.
                s.node.succeeded[s.index] = true
                if s.node.othersSucceeded(except: s.node.failed.firstIndex(of: true) ?? -1), let p = s.node.pending {
                    s.node.pending = nil
                    if closing {
                        abandoned = p
                    } else {
                        stats.retries += 1
                        queue.insert(contentsOf: p.0.isolate(), at: queueHead)
                        cond.broadcast()
                    }
                }
            }
            cond.unlock()
            job.finish(results)
            if let (j, err) = abandoned { j.finish(j.samples.map { SampleResult(id: $0.id, outcome: .failed(err)) }) }
        case .failed(let e):
            cond.lock()
            if e.type == .initError || e.type == .sandboxError {
                consecutiveInitFailures += 1
                // A handler that fails to import twice in a row will not import: stop respawning it.
                if consecutiveInitFailures >= 2 { initFailure = e }
            }
            var done: [(Job, GraderError)] = []
            if let s = job.sibling, e.isolatable, !closing {
                // A part of a batch split to find the sample that failed it. If another part failed as
                // well, the failure is not one sample's (a grader failing on everything): stop splitting.
                // If other parts are still running, wait for them.
                let otherFailed = s.node.failed.contains(true)
                s.node.failed[s.index] = true
                if otherFailed {
                    if let p = s.node.pending { s.node.pending = nil; done.append(p) }
                    done.append((job, e))
                } else if !s.node.othersSucceeded(except: s.index) && job.samples.count > 1 {
                    s.node.pending = (job, e)
                } else if job.samples.count > 1 {
                    stats.retries += 1
                    queue.insert(contentsOf: job.isolate(), at: queueHead)
                    cond.broadcast()
                } else {
                    done.append((job, e))
                }
            } else {
                // A failed half waiting for this one concludes now (shutting down, or not a sample's fault).
                if let s = job.sibling, let p = s.node.pending { s.node.pending = nil; done.append(p) }
                if e.isolatable && job.samples.count > 1 && !closing {
                    // Isolate the culprit: split in parts, so the neighbours of the sample that failed the
                    // batch get their scores, down to that sample alone (its error then names it).
                    stats.retries += 1
                    queue.insert(contentsOf: job.isolate(), at: queueHead)
                    cond.broadcast()
                } else {
                    done.append((job, e))
                }
            }
            var finished: [(Job, GraderError)] = []
            for (j, err) in done {
                // A sample isolated by splitting has failed on its own already: it is not retried.
                if err.isRetriable && j.retriesLeft > 0 && j.isolated == 0 && !closing {
                    stats.retries += 1
                    queue.insert(contentsOf: j.split(), at: queueHead)
                    cond.broadcast()
                } else {
                    stats.errors[err.type, default: 0] += j.samples.count
                    finished.append((j, err))
                }
            }
            cond.unlock()
            for (j, err) in finished {
                let named = j.samples.count == 1 && err.isolatable ? err.naming(sample: j.samples[0].id, isolated: j.isolated) : err
                j.finish(j.samples.map { SampleResult(id: $0.id, outcome: .failed(named)) })
            }
        }
    }

    private func recordStart(_ r: Swift.Result<Double, GraderError>) {
        cond.lock(); defer { cond.unlock() }
        switch r {
        case .success(let ms):
            stats.workerStarts += 1
            stats.coldStartsMs.append(ms)
            consecutiveInitFailures = 0
        case .failure(let e):
            consecutiveInitFailures += 1
            if consecutiveInitFailures >= 2 && e.type != .sandboxError { initFailure = e }
        }
    }

    /// Batches of at most `size` indexes, never holding one id twice (repeated ids go to later batches).
    static func batches(_ samples: [Sample], size: Int) -> [[Int]] {
        var rounds: [[Int]] = []
        var seen: [String: Int] = [:]
        for (i, s) in samples.enumerated() {
            let round = seen[s.id, default: 0]
            seen[s.id] = round + 1
            if round == rounds.count { rounds.append([]) }
            rounds[round].append(i)
        }
        return rounds.flatMap { r in stride(from: 0, to: r.count, by: size).map { Array(r[$0..<min($0 + size, r.count)]) } }
    }
}

/// The parts of a job split to isolate a failing sample; records which of them failed as a whole
/// (guarded by the pool's lock).
final class SplitNode {
    var failed: [Bool]
    var succeeded: [Bool]
    /// A failed part waiting for the other parts' outcomes, with its error.
    var pending: (Job, GraderError)?
    init(parts: Int) { failed = Array(repeating: false, count: parts); succeeded = failed }
    func othersSucceeded(except i: Int) -> Bool { succeeded.indices.allSatisfy { $0 == i || succeeded[$0] } }
}

/// One batch on its way through the pool.
final class Job {
    let samples: [Sample]
    let indexes: [Int]
    let retriesLeft: Int
    let attempt: Int
    let collector: Collector
    /// Set on the parts of a split: the shared node and which part this is.
    let sibling: (node: SplitNode, index: Int)?
    /// Size of the batch this job was split from (0: not split).
    let isolated: Int

    init(samples: [Sample], indexes: [Int], retriesLeft: Int, attempt: Int, collector: Collector,
         sibling: (node: SplitNode, index: Int)? = nil, isolated: Int = 0) {
        self.samples = samples; self.indexes = indexes; self.retriesLeft = retriesLeft
        self.attempt = attempt; self.collector = collector; self.sibling = sibling; self.isolated = isolated
    }

    func finish(_ results: [SampleResult]) { collector.fill(indexes, results) }

    /// The retry: two halves (or the same single sample) with one retry fewer.
    func split() -> [Job] {
        if samples.count < 2 {
            return [Job(samples: samples, indexes: indexes, retriesLeft: retriesLeft - 1, attempt: attempt + 1, collector: collector,
                        isolated: isolated)]
        }
        let mid = samples.count / 2
        return [
            Job(samples: Array(samples[..<mid]), indexes: Array(indexes[..<mid]), retriesLeft: retriesLeft - 1,
                attempt: attempt + 1, collector: collector, isolated: max(isolated, samples.count)),
            Job(samples: Array(samples[mid...]), indexes: Array(indexes[mid...]), retriesLeft: retriesLeft - 1,
                attempt: attempt + 1, collector: collector, isolated: max(isolated, samples.count)),
        ]
    }

    /// Up to four parts that keep the retries: the search for the sample that failed the whole batch
    /// (four rather than two halves, so a sample that hangs costs log₄ n timeouts, not log₂ n).
    func isolate() -> [Job] {
        let parts = min(Job.isolationParts, samples.count), node = SplitNode(parts: parts), from = max(isolated, samples.count)
        return (0..<parts).map { k in
            let r = (samples.count * k / parts)..<(samples.count * (k + 1) / parts)
            return Job(samples: Array(samples[r]), indexes: Array(indexes[r]), retriesLeft: retriesLeft,
                       attempt: attempt + 1, collector: collector, sibling: (node, k), isolated: from)
        }
    }

    static let isolationParts = 4
}

/// Gathers exactly one result per input sample and wakes the caller when all are in.
final class Collector: @unchecked Sendable {
    private let cond = NSCondition()
    private let ids: [String]
    private var results: [SampleResult?]
    private var remaining: Int

    init(ids: [String]) {
        self.ids = ids
        results = Array(repeating: nil, count: ids.count)
        remaining = ids.count
    }

    func fill(_ indexes: [Int], _ batch: [SampleResult]) {
        cond.lock()
        for (k, i) in indexes.enumerated() where results[i] == nil {
            results[i] = k < batch.count ? batch[k] : .failed(ids[i], .crash, "no result was produced")
            remaining -= 1
        }
        if remaining == 0 { cond.broadcast() }
        cond.unlock()
    }

    func wait() -> [SampleResult] {
        cond.lock()
        while remaining > 0 { cond.wait() }
        cond.unlock()
        return results.map { $0! }
    }
}
