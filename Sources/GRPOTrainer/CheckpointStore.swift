import Foundation

/// A run's checkpoints under `checkpoints/`: `step-NNNNNN` every `save_interval` steps (only the
/// last `keep_last` kept), `best` (highest validation reward) and `final`. Each holds the policy's
/// files and `trainer_state.json` (step, data order, RNG), enough to resume exactly.
///
/// ```swift
/// let store = CheckpointStore(run: runDirectory, keepLast: 3)
/// try store.saveStep(policy: policy, state: state, kept: &summary.checkpoints)
/// if let (name, state) = store.latest() { try policy.restore(from: store.url(name)) }
/// ```
public struct CheckpointStore: Sendable {
    /// Which checkpoint: a step's, the best so far, or the last.
    public enum Name: Equatable, Sendable {
        case step(Int), best, final

        /// The directory name: `step-000025`, `best`, `final`.
        public var directoryName: String {
            switch self {
            case .step(let n): return String(format: "step-%06d", n)
            case .best: return "best"
            case .final: return "final"
            }
        }

        /// The path written to `summary.json`: `checkpoints/<name>`.
        public var relativePath: String { "checkpoints/\(directoryName)" }
    }

    public let run: RunDirectory
    /// Step checkpoints kept; older ones are deleted as new ones are saved.
    public let keepLast: Int

    public init(run: RunDirectory, keepLast: Int) { self.run = run; self.keepLast = keepLast }

    /// The directory of checkpoint `name` (a directory name such as `step-000025`).
    public func url(_ name: String) -> URL { run.checkpoint(name) }

    /// Writes the policy and the trainer state to `name`, replacing it whole: everything is written
    /// to `.tmp-<name>` first and renamed, so a crash never leaves half a checkpoint.
    /// - Returns: the path relative to the run directory (`checkpoints/<name>`).
    @discardableResult
    public func save(_ name: Name, policy: GRPOPolicy, state: TrainerState) throws -> String {
        let fm = FileManager.default
        let target = url(name.directoryName), tmp = url(".tmp-\(name.directoryName)")
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        try policy.save(to: tmp)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(state).write(to: tmp.appendingPathComponent("trainer_state.json"))
        try? fm.removeItem(at: target)
        try fm.moveItem(at: tmp, to: target)
        return name.relativePath
    }

    /// Saves the step checkpoint of `state.step`, appends it to `kept` (oldest first) and deletes
    /// the oldest beyond `keepLast`.
    @discardableResult
    public func saveStep(policy: GRPOPolicy, state: TrainerState, kept: inout [String]) throws -> String {
        let path = try save(.step(state.step), policy: policy, state: state)
        kept.removeAll { $0 == path }
        kept.append(path)
        while kept.count > keepLast {
            try? FileManager.default.removeItem(at: run.file(kept.removeFirst()))
        }
        return path
    }

    /// Every complete checkpoint (one with a readable `trainer_state.json`), by directory name.
    public func list() -> [(name: String, state: TrainerState)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: run.checkpointsURL.path)) ?? []
        return names.sorted().compactMap { n in
            guard !n.hasPrefix("."),
                  let data = try? Data(contentsOf: url(n).appendingPathComponent("trainer_state.json")),
                  let state = try? JSONDecoder().decode(TrainerState.self, from: data) else { return nil }
            return (n, state)
        }
    }

    /// The checkpoint with the most steps; on a tie a step checkpoint wins over `best` or `final`.
    public func latest() -> (name: String, state: TrainerState)? {
        var found: (name: String, state: TrainerState)? = nil
        for c in list() {
            guard let f = found else { found = c; continue }
            if c.state.step > f.state.step || (c.state.step == f.state.step && c.name.hasPrefix("step-")) { found = c }
        }
        return found
    }
}
