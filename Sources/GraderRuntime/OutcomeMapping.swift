import Foundation
import Sandbox

extension GraderError {
    /// The typed error for a sandboxed process that ended without delivering a result.
    ///
    /// Each status comes from a kernel fact the sandbox observed (the runtime's own deadline flag, the
    /// memory cgroup's OOM counter, the SIGSYS syscall number, the exit status), never from guessing.
    /// - Parameter starting: the process died before it was ready (exec failures become `init_error`).
    static func from(_ o: Outcome, manifest: GraderManifest, starting: Bool = false) -> GraderError {
        let tail = stderrTail(o.stderr)
        switch o.status {
        case .timeout:
            return starting
                ? GraderError(.initError, "the init phase exceeded init_timeout_ms \(manifest.initTimeoutMs)\(tail)")
                : GraderError(.timeout, "the batch exceeded timeout_ms \(manifest.timeoutMs); the worker was killed\(tail)")
        case .memory_limit:
            let peak = o.peakMemoryBytes.map { " (peak \($0 >> 20) MiB)" } ?? ""
            return GraderError(.memoryLimit, "the worker exceeded memory_mb \(manifest.memoryMB)\(peak)\(tail)")
        case .syscall_violation:
            return GraderError(.syscallViolation, "forbidden system call \(o.syscall ?? "(unknown)")\(tail)")
        case .signaled:
            return GraderError(starting ? .initError : .crash, "the worker was killed by \(o.signal ?? "a signal")\(tail)")
        case .nonzero_exit:
            return GraderError(starting ? .initError : .crash, "the worker exited with status \(o.exitCode ?? -1)\(tail)")
        case .ok:
            return GraderError(starting ? .initError : .crash, "the worker exited before answering\(tail)")
        case .output_limit:
            return GraderError(.invalidOutput, "the grader's output exceeded the output limit\(tail)")
        case .exec_error:
            return GraderError(.initError, "cannot start the grader: \(o.message ?? "exec failed")\(tail)")
        case .sandbox_error:
            return GraderError(.sandboxError, "sandbox layer \(o.layer ?? "?"): \(o.message ?? "setup failed")")
        }
    }

    static func stderrTail(_ s: String) -> String {
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !t.isEmpty else { return "" }
        return "; stderr: " + (t.count > 600 ? "…" + t.suffix(600) : t)
    }

    /// Whether a failure of a whole batch may be one sample's doing (a handler that raised on it, a sample
    /// that hangs, crashes or exhausts the worker), so splitting the batch can isolate that sample.
    var isolatable: Bool {
        switch type {
        case .timeout, .memoryLimit, .crash, .syscallViolation, .handlerError, .invalidOutput: return true
        default: return false
        }
    }

    /// The error of a sample that failed a batch on its own: the message names the sample
    /// (`sample "7" (isolated from a batch of 32): ZeroDivisionError: ...`).
    func naming(sample id: String, isolated from: Int) -> GraderError {
        let origin = from > 1 ? " (isolated from a batch of \(from))" : ""
        let what: String
        switch type {
        case .timeout: what = "sample \"\(id)\"\(origin) alone exceeded timeout_ms"
        default: what = "sample \"\(id)\"\(origin)"
        }
        if type == .timeout, let r = message.range(of: "the batch exceeded timeout_ms") {
            return GraderError(type, what + message[r.upperBound...])
        }
        return GraderError(type, "\(what): \(message)")
    }

    /// Whether a batch that ended with this error is worth retrying on a fresh worker.
    var isRetriable: Bool {
        switch type {
        case .timeout, .memoryLimit, .crash, .syscallViolation: return true
        default: return false
        }
    }
}
