/// How a sandboxed process ended. Each status comes from a kernel fact or the runtime's own
/// bookkeeping (its deadline flag, the memory cgroup's OOM counter, the seccomp listener, the wait
/// status), never from the exit code alone.
public enum OutcomeStatus: String, Codable, Sendable {
    /// Exited with status 0.
    case ok
    /// Exited with a non-zero status (`exitCode`).
    case nonzero_exit
    /// Killed by a signal the sandbox did not send (`signal`, e.g. "SIGSEGV").
    case signaled
    /// Ran past the wall deadline (killed by the runtime) or its CPU-time limit (SIGXCPU/SIGKILL from RLIMIT_CPU).
    case timeout
    /// The memory cgroup's OOM killer fired inside the sandbox.
    case memory_limit
    /// Wrote more than `maxOutputBytes` to stdout or stderr; stopped.
    case output_limit
    /// Made a forbidden system call (`syscall`, as reported by the seccomp listener); stopped.
    case syscall_violation
    /// The program could not be executed (missing, not executable, bad interpreter, wrong architecture).
    case exec_error
    /// The sandbox itself could not be set up (`layer` names which part failed).
    case sandbox_error
}

/// The typed report of one sandboxed run.
public struct Outcome: Codable, Sendable {
    public var status: OutcomeStatus
    /// Exit status, when the process exited.
    public var exitCode: Int32?
    /// Signal name ("SIGSEGV"), when the process was killed by a signal.
    public var signal: String?
    /// The forbidden system call, for `syscall_violation`.
    public var syscall: String?
    /// The failing layer, for `sandbox_error` (and the limit that fired, for `timeout`: "wall" or "cpu").
    public var layer: String?
    /// A human-readable explanation.
    public var message: String?
    /// Wall time from spawn to exit, in milliseconds (monotonic clock).
    public var wallMs: Double
    /// CPU time of every process of the sandbox, in milliseconds.
    public var cpuMs: Double
    /// Peak memory (memory cgroup peak, else the largest resident set).
    public var peakMemoryBytes: UInt64?
    /// Captured stdout and stderr (capped at `maxOutputBytes`, decoded as UTF-8 with replacement).
    public var stdout: String
    public var stderr: String
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool

    public init(status: OutcomeStatus, exitCode: Int32? = nil, signal: String? = nil, syscall: String? = nil,
                layer: String? = nil, message: String? = nil, wallMs: Double = 0, cpuMs: Double = 0,
                peakMemoryBytes: UInt64? = nil, stdout: String = "", stderr: String = "",
                stdoutTruncated: Bool = false, stderrTruncated: Bool = false) {
        self.status = status
        self.exitCode = exitCode
        self.signal = signal
        self.syscall = syscall
        self.layer = layer
        self.message = message
        self.wallMs = wallMs
        self.cpuMs = cpuMs
        self.peakMemoryBytes = peakMemoryBytes
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
    }

    /// An outcome for a sandbox that could not be set up.
    public static func sandboxError(_ error: SandboxError) -> Outcome {
        Outcome(status: .sandbox_error, layer: error.layer, message: error.message)
    }
}

/// A failure of the sandbox itself (not of the sandboxed code): which layer, and why.
public struct SandboxError: Error, CustomStringConvertible, Sendable {
    /// "policy", "seccomp", "cgroup", "namespaces", "filesystem", "network", "identity", "rlimit", "spawn", ...
    public var layer: String
    public var message: String

    public init(layer: String, message: String) {
        self.layer = layer
        self.message = message
    }

    public var description: String { "sandbox error (\(layer)): \(message)" }
}

/// Why the owner of a warm worker killed it.
public enum KillReason: String, Sendable {
    /// The invocation ran past its deadline: `wait()` reports `timeout`.
    case timeout
    /// The worker is being shut down: `wait()` reports what the kernel says (usually `signaled` SIGKILL).
    case shutdown
}
