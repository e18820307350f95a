import Foundation

/// Whether sandboxed code may use the network.
public enum NetworkAccess: String, Codable, Sendable {
    /// No network: a private, empty network namespace, and seccomp refuses every socket family
    /// except AF_UNIX with EPERM.
    case none
    /// The host's network stack (granted per grader).
    case host
}

/// One declarative description of everything the sandbox enforces, applied in one place
/// (`Sandbox`). Build it from a preset and change the fields you need:
///
/// ```swift
/// var policy = SandboxPolicy.grader
/// policy.memoryMB = 256
/// policy.readOnlyPaths = ["/srv/graders/exact-match"]
/// let sandbox = try Sandbox(policy: policy)
/// ```
///
/// When decoded from JSON, missing keys take the `grader` preset's values.
public struct SandboxPolicy: Codable, Sendable, Equatable {
    /// Wall-clock deadline from spawn to exit; `nil` means none (warm workers are killed by their owner).
    public var wallTimeoutMs: Int?
    /// CPU time limit (RLIMIT_CPU, whole seconds, rounded up); `nil` means none.
    public var cpuTimeMs: Int?
    /// CPU bandwidth: milliseconds of CPU per second of wall time, summed over all cores (nsjail's
    /// `cgroup_cpu_ms_per_sec`; 1000 = one full core). Enforced by the cpu cgroup (CFS quota over a
    /// 100 ms period), so only as root; without cgroups it is not enforced (see `Sandbox.unenforced`).
    /// `nil` means unlimited.
    public var cpuMsPerSec: Int?
    /// Memory limit: the memory cgroup where available, else RLIMIT_AS.
    public var memoryMB: Int?
    /// Maximum number of processes and threads (pids cgroup and RLIMIT_NPROC of the slot's uid).
    public var maxPids: Int?
    /// Largest file the code may write (RLIMIT_FSIZE).
    public var maxFileSizeMB: Int?
    /// Maximum open file descriptors (RLIMIT_NOFILE).
    public var maxOpenFiles: Int?
    /// Bytes kept per captured stream (stdout, stderr). `run` stops the code with `output_limit` past it.
    public var maxOutputBytes: Int
    /// Size of the private writable scratch directory (`/tmp`, also `$HOME` and the working directory).
    public var scratchSizeMB: Int
    /// Network access.
    public var network: NetworkAccess
    /// Extra host paths visible read-only inside, at the same path (e.g. a grader's directory).
    public var readOnlyPaths: [String]
    /// Names of variables copied from the parent's environment (all others are cleared).
    public var allowEnv: [String]
    /// Fixed variables set in the child.
    public var environment: [String: String]
    /// Degraded mode: run even when a limit can only be enforced by a weaker fallback (memory by
    /// `RLIMIT_AS` instead of the memory cgroup) or not at all (`cpuMsPerSec` without the cpu
    /// cgroup). Off by default: `Sandbox.init` then throws, naming each such limit and its fix.
    /// `Sandbox.unenforced` lists what is degraded when it is on.
    public var allowDegraded: Bool = false

    public init(wallTimeoutMs: Int? = 10_000, cpuTimeMs: Int? = 10_000, memoryMB: Int? = 512, maxPids: Int? = 64,
                maxFileSizeMB: Int? = 64, maxOpenFiles: Int? = 256, maxOutputBytes: Int = 1 << 20,
                scratchSizeMB: Int = 64, network: NetworkAccess = .none, readOnlyPaths: [String] = [],
                allowEnv: [String] = [], environment: [String: String] = SandboxPolicy.baseEnvironment,
                cpuMsPerSec: Int? = nil) {
        self.cpuMsPerSec = cpuMsPerSec
        self.wallTimeoutMs = wallTimeoutMs
        self.cpuTimeMs = cpuTimeMs
        self.memoryMB = memoryMB
        self.maxPids = maxPids
        self.maxFileSizeMB = maxFileSizeMB
        self.maxOpenFiles = maxOpenFiles
        self.maxOutputBytes = maxOutputBytes
        self.scratchSizeMB = scratchSizeMB
        self.network = network
        self.readOnlyPaths = readOnlyPaths
        self.allowEnv = allowEnv
        self.environment = environment
    }

    /// Variables every sandboxed process starts with (overridable per policy and per call).
    public static let baseEnvironment: [String: String] = [
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    ]

    /// The default policy for user graders: 10 s wall and CPU, 512 MB, 64 pids, 1 MiB of output
    /// per stream, 64 MB of scratch, no network.
    public static var grader: SandboxPolicy { SandboxPolicy() }

    /// A stricter policy for model-written code: 5 s wall and CPU, 256 MB, 32 pids, 16 MB files,
    /// 64 open files, 64 KiB of output per stream, 16 MB of scratch, no network.
    public static var untrustedCode: SandboxPolicy {
        SandboxPolicy(wallTimeoutMs: 5_000, cpuTimeMs: 5_000, memoryMB: 256, maxPids: 32, maxFileSizeMB: 16,
                      maxOpenFiles: 64, maxOutputBytes: 64 << 10, scratchSizeMB: 16)
    }

    private enum CodingKeys: String, CodingKey {
        case wallTimeoutMs, cpuTimeMs, memoryMB, maxPids, maxFileSizeMB, maxOpenFiles, maxOutputBytes
        case scratchSizeMB, network, readOnlyPaths, allowEnv, environment, cpuMsPerSec, allowDegraded
    }

    public init(from decoder: Decoder) throws {
        self = .grader
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.wallTimeoutMs) { wallTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .wallTimeoutMs) }
        if c.contains(.cpuTimeMs) { cpuTimeMs = try c.decodeIfPresent(Int.self, forKey: .cpuTimeMs) }
        if c.contains(.cpuMsPerSec) { cpuMsPerSec = try c.decodeIfPresent(Int.self, forKey: .cpuMsPerSec) }
        if c.contains(.memoryMB) { memoryMB = try c.decodeIfPresent(Int.self, forKey: .memoryMB) }
        if c.contains(.maxPids) { maxPids = try c.decodeIfPresent(Int.self, forKey: .maxPids) }
        if c.contains(.maxFileSizeMB) { maxFileSizeMB = try c.decodeIfPresent(Int.self, forKey: .maxFileSizeMB) }
        if c.contains(.maxOpenFiles) { maxOpenFiles = try c.decodeIfPresent(Int.self, forKey: .maxOpenFiles) }
        maxOutputBytes = try c.decodeIfPresent(Int.self, forKey: .maxOutputBytes) ?? maxOutputBytes
        scratchSizeMB = try c.decodeIfPresent(Int.self, forKey: .scratchSizeMB) ?? scratchSizeMB
        network = try c.decodeIfPresent(NetworkAccess.self, forKey: .network) ?? network
        readOnlyPaths = try c.decodeIfPresent([String].self, forKey: .readOnlyPaths) ?? readOnlyPaths
        allowEnv = try c.decodeIfPresent([String].self, forKey: .allowEnv) ?? allowEnv
        environment = try c.decodeIfPresent([String: String].self, forKey: .environment) ?? environment
        allowDegraded = try c.decodeIfPresent(Bool.self, forKey: .allowDegraded) ?? allowDegraded
    }

    /// The largest meaningful `cpuMsPerSec` here: 1000 per online core.
    public static var maxCpuMsPerSec: Int { 1000 * max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Checks every field; the error names the field.
    public func validate() throws {
        func positive(_ v: Int?, _ field: String) throws {
            if let v, v <= 0 { throw SandboxError(layer: "policy", message: "\(field) must be positive, got \(v)") }
        }
        try positive(wallTimeoutMs, "wallTimeoutMs")
        try positive(cpuTimeMs, "cpuTimeMs")
        try positive(memoryMB, "memoryMB")
        try positive(maxPids, "maxPids")
        try positive(maxFileSizeMB, "maxFileSizeMB")
        try positive(maxOpenFiles, "maxOpenFiles")
        try positive(maxOutputBytes, "maxOutputBytes")
        try positive(scratchSizeMB, "scratchSizeMB")
        if let v = cpuMsPerSec, !(1...Self.maxCpuMsPerSec).contains(v) {
            throw SandboxError(layer: "policy", message: "cpuMsPerSec must be in 1...\(Self.maxCpuMsPerSec) (1000 per core, \(Self.maxCpuMsPerSec / 1000) cores here), got \(v)")
        }
        if let n = maxOpenFiles, n < 8 {
            throw SandboxError(layer: "policy", message: "maxOpenFiles must be at least 8, got \(n)")
        }
        for (i, p) in readOnlyPaths.enumerated() {
            let where_ = "readOnlyPaths[\(i)]"
            guard p.hasPrefix("/") else { throw SandboxError(layer: "policy", message: "\(where_): \"\(p)\" is not absolute") }
            let norm = FilesystemView.normalize(p)
            if norm == "/" || FilesystemView.reservedPrefixes.contains(where: { norm == $0 || norm.hasPrefix($0 + "/") }) {
                throw SandboxError(layer: "policy", message: "\(where_): \"\(p)\" cannot be mapped (/, /proc, /dev, /sys and /.rft-ro are the sandbox's own)")
            }
        }
        for (k, _) in environment where k.isEmpty || k.contains("=") || k.contains("\0") {
            throw SandboxError(layer: "policy", message: "environment: invalid variable name \"\(k)\"")
        }
    }
}
