import ArgumentParser
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
