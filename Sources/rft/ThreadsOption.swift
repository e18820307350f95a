import ArgumentParser
import Foundation
import TransformerModel

/// `--threads N`: how many threads the model's passes use (sampling, log-probs, training).
struct ThreadsOption: ParsableArguments {
    @Option(help: "Model threads (default: $RFT_THREADS, else the cores this process may use: its affinity mask and cgroup CPU quota). Results are deterministic for a given seed and thread count.")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// The thread count in effect: `--threads`, else `ModelThreads.defaultCount`.
    var count: Int { threads ?? ModelThreads.defaultCount }

    /// Makes `--threads` the default of every model created from now on.
    func apply() { if let threads { ModelThreads.defaultCount = threads } }
}

/// What a long-running command (`rft train`, `rft demo`) does first: applies `--threads` and the
/// degraded-mode flags, and line-buffers stdout so progress lines appear as they happen, also in
/// a pipe.
func beginLongRun(threads: ThreadsOption, degraded: DegradedModeOption) {
    threads.apply()
    degraded.apply()
    setvbuf(stdout, nil, _IOLBF, 0)
}
