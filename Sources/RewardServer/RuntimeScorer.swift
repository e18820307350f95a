import Foundation
import GraderRuntime
import JSON

/// Serves graders through `GraderRuntime`: warm sandboxed pools for grader directories, and
/// `RewardScorer`s for reward specs that combine several graders with weights.
///
/// ```swift
/// let scorer = try RuntimeScorer(path: URL(fileURLWithPath: "graders"))  // every DIR/*/grader.json
/// defer { scorer.shutdown() }
/// ```
public final class RuntimeScorer: BatchScorer, @unchecked Sendable {
    private enum Backend {
        case pool(GraderPool)
        case spec(RewardScorer)
    }

    private final class Entry: @unchecked Sendable {
        let name: String
        let backend: Backend
        let concurrency: Int
        let lock = NSLock()
        var outstanding = 0
        var restarts = 0

        init(name: String, backend: Backend, concurrency: Int) {
            self.name = name
            self.backend = backend
            self.concurrency = concurrency
        }
    }

    public let graders: [ServedGrader]
    private let entries: [String: Entry]

    /// Loads what `path` names:
    /// - a grader directory (it holds `grader.json`): that grader, under its manifest name;
    /// - a directory of grader directories: each of them (subdirectories without `grader.json` are skipped);
    /// - a reward spec file (`{"graders": [{"path", "weight"}]}`): the combined reward, under `specName`
    ///   or the file's base name.
    /// - Throws: `ManifestErrors` / `ManifestError` naming file and field, `RuntimeScorerError` when
    ///   nothing servable is found or two graders share a name.
    public init(path: URL, specName: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        var served: [ServedGrader] = []
        var entries: [String: Entry] = [:]
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir) else {
            throw RuntimeScorerError.notFound(path.path)
        }
        func add(_ name: String, _ manifest: JSONValue, _ make: (GraderPool.Options) throws -> (Backend, Int)) throws {
            guard entries[name] == nil else { throw RuntimeScorerError.duplicateName(name) }
            let restartCounter = RestartCounter()
            var options = GraderPool.Options(environment: environment)
            options.onBatch = { log in
                // A batch that failed as a whole with one of these killed its worker, which is replaced.
                switch log.error?.type {
                case .timeout?, .memoryLimit?, .crash?, .syscallViolation?: restartCounter.increment()
                default: break
                }
            }
            let (backend, concurrency) = try make(options)
            let entry = Entry(name: name, backend: backend, concurrency: concurrency)
            restartCounter.entry = entry
            entries[name] = entry
            served.append(ServedGrader(name: name, manifest: manifest))
        }
        do {
            if !isDir.boolValue {
                let spec = try RewardSpec.load(path)
                let name = specName ?? path.deletingPathExtension().lastPathComponent
                var listed: [JSONValue] = []
                for e in spec.entries {
                    listed.append(["name": .string(e.name), "weight": .number(e.weight),
                                   "manifest": Self.rawManifest(e.directory)])
                }
                try add(name, ["graders": .array(listed)]) { options in
                    let scorer = try RewardScorer(spec: spec, options: options)
                    return (.spec(scorer), scorer.pools.map(\.manifest.concurrency).reduce(0, +))
                }
            } else if FileManager.default.fileExists(atPath: path.appendingPathComponent(GraderManifest.fileName).path) {
                try Self.addPool(path, add)
            } else {
                let children = try FileManager.default.contentsOfDirectory(at: path, includingPropertiesForKeys: nil)
                    .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent(GraderManifest.fileName).path) }
                    .sorted { $0.lastPathComponent < $1.lastPathComponent }
                for dir in children { try Self.addPool(dir, add) }
            }
        } catch {
            for e in entries.values { Self.shutdown(e.backend) }
            throw error
        }
        guard !served.isEmpty else { throw RuntimeScorerError.nothingToServe(path.path) }
        self.graders = served
        self.entries = entries
    }

    private static func addPool(_ dir: URL, _ add: (String, JSONValue, (GraderPool.Options) throws -> (Backend, Int)) throws -> Void) throws {
        let manifest = try GraderManifest.load(directory: dir)
        try add(manifest.name, rawManifest(dir)) { options in
            (.pool(try GraderPool(manifest: manifest, directory: dir, options: options)), manifest.concurrency)
        }
    }

    /// The manifest as the user wrote it (the listing shows their file, not our defaults).
    private static func rawManifest(_ dir: URL) -> JSONValue {
        let data = FileManager.default.contents(atPath: dir.appendingPathComponent(GraderManifest.fileName).path) ?? Data()
        return (try? JSONValue.parse(Array(data))) ?? .null
    }

    public func score(grader: String, samples: [Sample]) async throws -> [JSONValue] {
        try await scoring(grader) { backend in
            switch backend {
            case .pool(let pool): return await pool.score(samples).map(\.json)
            case .spec(let scorer): return await scorer.score(samples).map(\.json)
            }
        }
    }

    /// The same outputs as ``score(grader:samples:)``; a grader's typed results are written straight to
    /// JSON bytes, without building trees.
    public func scoreEncoded(grader: String, samples: [Sample]) async throws -> EncodedOutputs {
        try await scoring(grader) { backend in
            switch backend {
            case .pool(let pool): return EncodedOutputs(await pool.score(samples))
            case .spec(let scorer): return EncodedOutputs(await scorer.score(samples).map(\.json))
            }
        }
    }

    /// Runs `body` on the grader's backend, counted as outstanding while it runs.
    private func scoring<T>(_ grader: String, _ body: (Backend) async -> T) async throws -> T {
        guard let entry = entries[grader] else { throw ScorerError.unknownGrader(grader) }
        entry.lock.withLock { entry.outstanding += 1 }
        defer { entry.lock.withLock { entry.outstanding -= 1 } }
        return await body(entry.backend)
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
        for e in entries.values { Self.shutdown(e.backend) }
    }

    private static func shutdown(_ backend: Backend) {
        switch backend {
        case .pool(let p): p.shutdown()
        case .spec(let s): s.shutdown()
        }
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

/// Why `RuntimeScorer` could not load what it was given.
public enum RuntimeScorerError: Error, CustomStringConvertible, Equatable {
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
