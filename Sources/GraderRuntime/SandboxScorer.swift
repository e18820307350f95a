import Foundation
import JSON

/// Scores with graders run on this machine, in warm sandboxed worker pools: grader directories (each
/// result passed through as the grader wrote it) and reward specs (several graders run concurrently,
/// combined with weights and `on_error`, per-grader components kept).
///
/// ```swift
/// let scorer = try SandboxScorer(path: URL(fileURLWithPath: "graders"))  // every DIR/*/grader.json
/// defer { scorer.shutdown() }
/// let rewards = try scorer.score(samples, grader: "math")   // [RewardResult], input order
/// ```
public final class SandboxScorer: Scorer, @unchecked Sendable {
    private enum Backend {
        case pool(GraderPool)
        case spec(RewardSpec, [GraderPool])

        var pools: [GraderPool] {
            switch self {
            case .pool(let p): return [p]
            case .spec(_, let pools): return pools
            }
        }
    }

    private final class Entry: @unchecked Sendable {
        let backend: Backend
        let concurrency: Int
        let lock = NSLock()
        var outstanding = 0
        var restarts = 0

        init(backend: Backend) {
            self.backend = backend
            self.concurrency = backend.pools.map(\.manifest.concurrency).reduce(0, +)
        }
    }

    public let graders: [ServedGrader]
    private let entries: [String: Entry]

    /// Loads what `path` names:
    /// - a grader directory (it holds `grader.json`): that grader, under its manifest name;
    /// - a directory of grader directories: each of them (subdirectories without `grader.json` are skipped);
    /// - a reward spec file (`{"graders": [{"path", "weight"}]}`): the combined reward, under `specName`
    ///   or the file's base name.
    /// - Throws: `ManifestErrors` / `ManifestError` naming file and field, ``SandboxScorerError`` when
    ///   nothing servable is found or two graders share a name.
    public convenience init(path: URL, specName: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir) else {
            throw SandboxScorerError.notFound(path.path)
        }
        var sources: [Source] = []
        if !isDir.boolValue {
            let spec = try RewardSpec.load(path)
            sources.append(.spec(specName ?? path.deletingPathExtension().lastPathComponent, spec))
        } else if FileManager.default.fileExists(atPath: path.appendingPathComponent(GraderManifest.fileName).path) {
            sources.append(.directory(path))
        } else {
            let children = try FileManager.default.contentsOfDirectory(at: path, includingPropertiesForKeys: nil)
                .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent(GraderManifest.fileName).path) }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
            sources += children.map(Source.directory)
        }
        guard !sources.isEmpty else { throw SandboxScorerError.nothingToServe(path.path) }
        try self.init(sources, options: GraderPool.Options(environment: environment))
    }

    /// Serves one reward spec under `name` (the trainer's reward: a spec file, or a grader directory
    /// loaded as a one-grader spec so its `on_error` applies).
    /// - Throws: ``ManifestErrors`` for any invalid grader manifest, or a sandbox setup error.
    public convenience init(spec: RewardSpec, name: String = "reward", options: GraderPool.Options = GraderPool.Options()) throws {
        try self.init([.spec(name, spec)], options: options)
    }

    private enum Source {
        case directory(URL)
        case spec(String, RewardSpec)
    }

    private init(_ sources: [Source], options: GraderPool.Options) throws {
        var served: [ServedGrader] = []
        var entries: [String: Entry] = [:]
        var started: [GraderPool] = []
        do {
            for source in sources {
                let counter = RestartCounter()
                var options = options
                let onBatch = options.onBatch
                options.onBatch = { log in
                    onBatch?(log)
                    // A batch that failed as a whole with one of these killed its worker, which is replaced.
                    switch log.error?.type {
                    case .timeout?, .memoryLimit?, .crash?, .syscallViolation?: counter.increment()
                    default: break
                    }
                }
                let loaded = try Self.start(source, options: options, taken: Set(entries.keys)) { started.append($0) }
                let entry = Entry(backend: loaded.backend)
                counter.entry = entry
                entries[loaded.served.name] = entry
                served.append(loaded.served)
            }
        } catch {
            for p in started { p.shutdown() }
            throw error
        }
        self.graders = served
        self.entries = entries
    }

    /// Starts the pools of one source; `onStart` sees each pool as it starts (to stop them on a later failure).
    private static func start(_ source: Source, options: GraderPool.Options, taken: Set<String>,
                              onStart: (GraderPool) -> Void) throws -> (served: ServedGrader, backend: Backend) {
        switch source {
        case .directory(let dir):
            let m = try GraderManifest.load(directory: dir)
            guard !taken.contains(m.name) else { throw SandboxScorerError.duplicateName(m.name) }
            let pool = try GraderPool(manifest: m, directory: dir, options: options)
            onStart(pool)
            return (ServedGrader(name: m.name, manifest: rawManifest(dir)), .pool(pool))
        case .spec(let name, let spec):
            guard !taken.contains(name) else { throw SandboxScorerError.duplicateName(name) }
            var pools: [GraderPool] = []
            for e in spec.entries {
                let pool = try GraderPool(directory: e.directory, options: options)
                onStart(pool)
                pools.append(pool)
            }
            let listed: [JSONValue] = spec.entries.map {
                ["name": .string($0.name), "weight": .number($0.weight), "manifest": rawManifest($0.directory)]
            }
            return (ServedGrader(name: name, manifest: ["graders": .array(listed)], components: spec.entries.map(\.name)),
                    .spec(spec, pools))
        }
    }

    /// The manifest as the user wrote it (the listing shows their file, not our defaults).
    private static func rawManifest(_ dir: URL) -> JSONValue {
        let data = FileManager.default.contents(atPath: dir.appendingPathComponent(GraderManifest.fileName).path) ?? Data()
        return (try? JSONValue.parse(Array(data))) ?? .null
    }

    /// The worker pools behind `grader` (one per spec entry, in spec order).
    public func pools(for grader: String) -> [GraderPool] { entries[grader]?.backend.pools ?? [] }

    /// Scores and combines; thread-safe, blocks the caller, one ``RewardResult`` per sample in input order.
    /// - Throws: ``ScorerError/unknownGrader(_:)`` only.
    public func score(_ samples: [Sample], grader: String) throws -> [RewardResult] {
        guard let entry = entries[grader] else { throw ScorerError.unknownGrader(grader) }
        entry.lock.withLock { entry.outstanding += 1 }
        defer { entry.lock.withLock { entry.outstanding -= 1 } }
        switch entry.backend {
        case .pool(let pool):
            let name = pool.manifest.name
            return pool.score(samples).map { RewardResult(grader: name, result: $0) }
        case .spec(let spec, let pools):
            var perGrader = [[SampleResult]](repeating: [], count: pools.count)
            let lock = NSLock()
            DispatchQueue.concurrentPerform(iterations: pools.count) { g in
                let r = pools[g].score(samples)
                lock.withLock { perGrader[g] = r }
            }
            return samples.indices.map { i in
                RewardAggregation.combine(id: samples[i].id, results: pools.indices.map { g in
                    (spec.entries[g].name, spec.entries[g].weight, pools[g].manifest.onError, perGrader[g][i])
                })
            }
        }
    }

    /// Scores without blocking the caller's thread.
    public func score(_ samples: [Sample], grader: String) async throws -> [RewardResult] {
        guard entries[grader] != nil else { throw ScorerError.unknownGrader(grader) }
        return await withCheckedContinuation { (c: CheckedContinuation<[RewardResult], Never>) in
            DispatchQueue.global().async { c.resume(returning: (try? self.score(samples, grader: grader)) ?? []) }
        }
    }

    /// Queue depth counts requests beyond the grader's warm workers (each request holds at least one
    /// batch); restarts count batches whose worker was killed (timeout, crash, memory, syscall).
    public func stats() -> ScorerStats {
        var s = ScorerStats()
        for (name, e) in entries {
            e.lock.withLock {
                s.queueDepth[name] = max(0, e.outstanding - e.concurrency)
                s.workerRestarts[name] = e.restarts
            }
        }
        return s
    }

    /// Stops every pool: queued batches get `throttled`, workers are killed and reaped. Idempotent.
    public func shutdown() {
        for e in entries.values { for p in e.backend.pools { p.shutdown() } }
    }

    /// Counts worker restarts for an entry created after the pool's options were fixed.
    private final class RestartCounter: @unchecked Sendable {
        weak var entry: Entry?
        func increment() {
            guard let entry else { return }
            entry.lock.withLock { entry.restarts += 1 }
        }
    }
}

/// Why a ``SandboxScorer`` could not load what it was given.
public enum SandboxScorerError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case nothingToServe(String)
    case duplicateName(String)

    public var description: String {
        switch self {
        case .notFound(let p): return "\(p): no such file or directory"
        case .nothingToServe(let p): return "\(p): no grader.json here or in any subdirectory, and not a reward spec file"
        case .duplicateName(let n): return "two graders are named \"\(n)\"; grader names must be unique"
        }
    }
}
