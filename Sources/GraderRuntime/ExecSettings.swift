import Foundation
import JSON
import Sandbox

/// A grader's opt-in to the exec service: `"exec": {…}` in `grader.json`.
///
/// Every field is the default *and* the maximum for one run of untrusted code; a request may ask for
/// less, never more. `"exec": {}` takes the defaults below (those of `SandboxPolicy.untrustedCode`).
/// ```json
/// "exec": {"timeout_ms": 2000, "memory_mb": 256, "max_pids": 32, "concurrency": 4}
/// ```
public struct ExecSettings: Codable, Sendable, Equatable {
    /// Wall-clock limit of one run, and of one call into a session (ms).
    public var timeoutMs: Int = 5_000
    /// Memory cgroup limit of one run or session.
    public var memoryMB: Int = 256
    /// Processes and threads of one run (pids cgroup and RLIMIT_NPROC of its own uid).
    public var maxPids: Int = 32
    /// Bytes kept of stdout and of stderr; past it the run ends as `output_limit`.
    public var maxOutputBytes: Int = 1 << 20
    /// Largest file the code may write (RLIMIT_FSIZE).
    public var maxFileMB: Int = 16
    /// RLIMIT_NOFILE.
    public var maxOpenFiles: Int = 64
    /// Size of the fresh `/tmp` tmpfs.
    public var scratchMB: Int = 16
    /// Lifetime of a session (all its calls together), after which it is killed.
    public var sessionTimeoutMs: Int = 120_000
    /// Runs and sessions alive at once for the whole grader pool; further requests wait.
    public var concurrency: Int = 4

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case timeoutMs = "timeout_ms", memoryMB = "memory_mb", maxPids = "max_pids"
        case maxOutputBytes = "max_output_bytes", maxFileMB = "max_file_mb", maxOpenFiles = "max_open_files"
        case scratchMB = "scratch_mb", sessionTimeoutMs = "session_timeout_ms", concurrency
    }

    /// The limits a request may set, with their ranges (the upper bound is this manifest's value).
    var requestLimits: [(key: String, range: ClosedRange<Int>)] {
        [("timeout_ms", 1...timeoutMs), ("cpu_ms", 1...timeoutMs), ("memory_mb", 16...memoryMB),
         ("max_pids", 1...maxPids), ("max_output_bytes", 1...maxOutputBytes), ("max_file_mb", 1...maxFileMB),
         ("max_open_files", 8...maxOpenFiles)]
    }

    /// Decodes and checks `"exec"`; every problem is reported through `fail(fieldPath, message)`.
    static func validate(_ v: JSONValue, fail: (String, String) -> Void) -> ExecSettings? {
        guard let obj = v.objectValue else {
            fail("exec", "must be an object of limits (e.g. {\"timeout_ms\": 2000, \"memory_mb\": 256}), got \(v.typeName)")
            return nil
        }
        var s = ExecSettings()
        let known = CodingKeys.allCases.map(\.rawValue)
        for key in obj.keys where !known.contains(key) {
            let hint = known.min { editDistance($0, key) < editDistance($1, key) }.flatMap {
                editDistance($0, key) <= 2 ? " (did you mean '\($0)'?)" : nil
            } ?? ""
            fail("exec.\(key)", "unknown field\(hint)")
        }
        func int(_ key: CodingKeys, _ range: ClosedRange<Int>, _ into: inout Int) {
            guard let x = obj[key.rawValue] else { return }
            guard let d = x.doubleValue, d == d.rounded(), abs(d) < 1e15 else {
                return fail("exec.\(key.rawValue)", "must be an integer, got \(x.jsonString)")
            }
            guard range.contains(Int(d)) else {
                return fail("exec.\(key.rawValue)", "must be \(range.lowerBound)...\(range.upperBound), got \(Int(d))")
            }
            into = Int(d)
        }
        int(.timeoutMs, 1...600_000, &s.timeoutMs)
        int(.memoryMB, 16...65_536, &s.memoryMB)
        int(.maxPids, 1...4096, &s.maxPids)
        int(.maxOutputBytes, 1...(64 << 20), &s.maxOutputBytes)
        int(.maxFileMB, 1...65_536, &s.maxFileMB)
        int(.maxOpenFiles, 8...65_536, &s.maxOpenFiles)
        int(.scratchMB, 1...65_536, &s.scratchMB)
        int(.sessionTimeoutMs, 1...3_600_000, &s.sessionTimeoutMs)
        int(.concurrency, 1...256, &s.concurrency)
        return s
    }
}
