import CSpawn
import Foundation

/// Runs commands under one `SandboxPolicy`. Build it once per policy (the syscall filter is
/// compiled and the filesystem plan made here), then call `run` or `spawn` from any thread.
///
/// ```swift
/// let sandbox = try Sandbox(policy: .grader)
/// let outcome = sandbox.run(["/usr/bin/python3", "-c", "print(6 * 7)"])
/// // outcome.status == .ok, outcome.stdout == "42\n"
/// ```
///
/// As root, each concurrent run gets a slot: an unprivileged uid, its own cgroups and a prepared
/// empty network namespace, all reused. As another user, a user namespace maps the caller's uid.
/// Where namespaces cannot be created (an unprivileged container), root runs without them only in
/// degraded mode (`IsolationMode.noNamespaces`); otherwise `init` throws, saying what was denied.
public final class Sandbox: @unchecked Sendable {
    public let policy: SandboxPolicy
    /// Whether the sandbox runs as root (uid drop, cgroups, prepared netns) or in a user namespace.
    public let privileged: Bool
    let template: SpawnTemplate
    let pool: SlotPool
    let cgroups: CgroupSupport

    /// Compiles the syscall filter, plans the filesystem view and prepares the slot pool.
    /// Throws `SandboxError` naming the layer that cannot be set up, and, unless the policy allows
    /// degraded mode (or the environment sets `RFT_ALLOW_DEGRADED=1`), naming every limit that only
    /// a weaker fallback could enforce here, or every namespace that cannot be created (layer
    /// "namespaces"; with degraded mode, root then runs without namespaces: `isolation`).
    public convenience init(policy: SandboxPolicy) throws {
        try self.init(policy: policy, namespaces: .shared)
    }

    /// `namespaces`: what this process can create (tests pass a probe result to exercise a mode).
    init(policy: SandboxPolicy, namespaces probe: NamespaceProbe) throws {
        try policy.validate()
        self.policy = policy
        privileged = geteuid() == 0
        signal(SIGPIPE, SIG_IGN) // writes to a dead child's stdin must fail with EPIPE, not kill us
        let allowDegraded = policy.allowDegraded || ProcessInfo.processInfo.environment["RFT_ALLOW_DEGRADED"] == "1"
        isolation = try IsolationMode.decide(probe: probe, root: privileged, allowDegraded: allowDegraded)
        // Root uses any cgroup hierarchy; another user only a delegated cgroup v2 subtree.
        cgroups = CgroupSupport.shared
        let cgroupGaps = Degradation.of(policy: policy, cgroups: cgroups)
        if !cgroupGaps.isEmpty && !allowDegraded {
            throw SandboxError(layer: "cgroup", message: Degradation.refusal(cgroupGaps))
        }
        degradations = (isolation == .noNamespaces ? probe.degradations(policy: policy) : []) + cgroupGaps
        if !cgroups.mounts.isEmpty { Sandbox.sweepOnce(cgroups) }
        template = try SpawnTemplate(policy: policy, privileged: privileged, hasMemoryCgroup: cgroups.mounts["memory"] != nil,
                                     isolation: isolation)
        pool = SlotPool(policy: policy, privileged: privileged, support: cgroups, mountTemplateFD: template.mountTemplateFD,
                        isolation: isolation)
    }

    /// Whether children run in namespaces, or (degraded, in an unprivileged container) without.
    public let isolation: IsolationMode

    /// The policy's limits that this machine enforces only by a weaker fallback, or not at all
    /// (non-empty only in degraded mode: otherwise `init` throws).
    public let degradations: [Degradation]

    /// `degradations` as sentences, for warnings (empty when every limit is enforced).
    public var unenforced: [String] { degradations.map(\.description) }

    private static let sweepLock = NSLock()
    nonisolated(unsafe) private static var swept = false
    private static func sweepOnce(_ s: CgroupSupport) {
        sweepLock.lock(); defer { sweepLock.unlock() }
        if !swept { swept = true; SlotCgroups.sweepStale(support: s) }
    }

    /// Runs `argv` to completion, feeding `stdin`, and reports a typed Outcome. Never throws:
    /// sandbox failures come back as `sandbox_error`, exec failures as `exec_error`.
    /// `environment` adds to (and overrides) the policy's variables.
    public func run(_ argv: [String], stdin: [UInt8] = [], environment: [String: String] = [:]) -> Outcome {
        let slot: Slot
        do { slot = try pool.acquire() } catch let e as SandboxError { return .sandboxError(e) } catch {
            return .sandboxError(SandboxError(layer: "spawn", message: "\(error)"))
        }
        defer { pool.release(slot) }
        let start = monotonicNs()
        let launched: Launched
        do {
            launched = try template.launch(argv: argv, environment: environment, slot: slot, channels: false)
        } catch let f as LaunchFailure {
            return f.outcome
        } catch {
            return .sandboxError(SandboxError(layer: "spawn", message: "\(error)"))
        }
        let sup = Supervisor(launched: launched, policy: policy, slot: slot, startNs: start, stdin: stdin, killOnOutputLimit: true)
        sup.run()
        var outcome = sup.outcome()
        if let failure = launched.failure {
            let wall = outcome.wallMs
            outcome = failure.outcome
            outcome.wallMs = wall
        }
        sup.closeAll()
        return outcome
    }

    /// Starts a long-lived (warm) worker. Its limits (memory, pids) hold for its whole life, and
    /// its scratch directory persists until `wait()` has reaped it. The wall deadline of the
    /// policy applies from spawn unless `wallTimeoutMs` is nil; `kill(reason:)` ends it earlier.
    /// With `channels`, the child gets a request pipe as fd 3 and a response pipe as fd 4.
    /// Throws `SandboxError` (layer "exec" when the program cannot be executed).
    public func spawn(_ argv: [String], environment: [String: String] = [:], channels: Bool = false) throws -> SandboxedProcess {
        let slot = try pool.acquire()
        let start = monotonicNs()
        let launched: Launched
        do {
            launched = try template.launch(argv: argv, environment: environment, slot: slot, channels: channels)
        } catch let f as LaunchFailure {
            pool.release(slot)
            throw f.error
        }
        let sup = Supervisor(launched: launched, policy: policy, slot: slot, startNs: start, stdin: nil, killOnOutputLimit: false)
        if let failure = launched.failure {
            sup.run()
            _ = sup.outcome()
            sup.closeAll()
            for fd in [launched.stdinW, launched.requestW, launched.responseR] where fd >= 0 { Glibc.close(fd) }
            pool.release(slot)
            throw failure.error
        }
        return SandboxedProcess(sandbox: self, slot: slot, supervisor: sup)
    }

    /// Releases every slot now (uids, cgroups, namespaces) instead of when the last reference goes,
    /// which a process about to exit may never see: slot cleanup runs on background threads.
    /// Call it when no run or worker of this sandbox is in flight; later runs make new slots.
    public func close() { pool.drain() }

    /// The cgroup directories this sandbox currently owns (one per slot and controller).
    public var cgroupDirectories: [String] { pool.cgroupDirs }
}

/// A long-lived sandboxed worker started by `Sandbox.spawn`. Its stdout and stderr are drained in
/// the background into capped buffers. Do not close the exposed fds yourself: use `closeStdin()`;
/// everything is closed when the process is deallocated.
public final class SandboxedProcess: @unchecked Sendable {
    /// Host pid of the sandbox's init (pid 1 inside the sandbox when it has a PID namespace).
    public let pid: Int32
    /// The parent's write end of the child's stdin.
    public let stdinFD: Int32
    /// With channels: the parent writes requests here; the child reads them on fd 3. Else -1.
    public let requestFD: Int32
    /// With channels: the parent reads responses here; the child writes them on fd 4. Else -1.
    public let responseFD: Int32

    private let sandbox: Sandbox
    private let slot: Slot
    private let supervisor: Supervisor
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var finished: Outcome?
    private var stdinClosed = false
    private var released = false

    init(sandbox: Sandbox, slot: Slot, supervisor: Supervisor) {
        self.sandbox = sandbox
        self.slot = slot
        self.supervisor = supervisor
        pid = supervisor.launched.pid
        stdinFD = supervisor.launched.stdinW
        requestFD = supervisor.launched.requestW
        responseFD = supervisor.launched.responseR
        let t = Thread { [supervisor, done] in
            supervisor.run()
            done.signal()
        }
        t.name = "rft-sandbox-\(pid)"
        t.stackSize = 256 << 10
        t.start()
    }

    /// Returns and clears the stdout and stderr captured so far (each capped at `maxOutputBytes`).
    public func takeOutput() -> (stdout: [UInt8], stderr: [UInt8], truncated: Bool) { supervisor.takeOutput() }

    /// Whether the sandbox's init has exited (every process of the sandbox is gone).
    public var hasExited: Bool {
        supervisor.lock.lock(); defer { supervisor.lock.unlock() }
        return supervisor.exited
    }

    /// Kills the whole sandbox (its PID namespace, or without namespaces every process of the slot
    /// uid). `wait()` then reports `timeout` for `.timeout`.
    public func kill(reason: KillReason) { supervisor.kill(reason) }

    /// Closes the child's stdin (it reads EOF).
    public func closeStdin() {
        lock.lock(); defer { lock.unlock() }
        if !stdinClosed { stdinClosed = true; close(stdinFD) }
    }

    /// Blocks until the sandbox has exited, reaps it and reports. Idempotent.
    public func wait() -> Outcome {
        lock.lock()
        if let f = finished { lock.unlock(); return f }
        lock.unlock()
        done.wait()
        done.signal() // let concurrent waiters through
        lock.lock(); defer { lock.unlock() }
        if let f = finished { return f }
        let o = supervisor.outcome()
        finished = o
        if !released {
            released = true
            supervisor.closeAll()
            sandbox.pool.release(slot)
        }
        return o
    }

    deinit {
        if !released {
            supervisor.kill(.shutdown)
            _ = wait()
        }
        if !stdinClosed { close(stdinFD) }
        if requestFD >= 0 { close(requestFD) }
        if responseFD >= 0 { close(responseFD) }
    }
}
