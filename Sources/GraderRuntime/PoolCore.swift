import Foundation
import Sandbox
#if canImport(Glibc)
import Glibc
#endif

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
