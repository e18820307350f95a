import Foundation
import Sandbox
#if canImport(Glibc)
import Glibc
import JSON
#endif

/// The exec service: runs untrusted code for a grader in fresh sandboxes of its own.
///
/// A grader whose manifest has `"exec"` asks rft's supervisor (this process, outside the grader's
/// sandbox) to run a program; it gets back a typed ``Outcome``. Each run or session gets:
/// - a sandbox slot of its own: its own unprivileged uid (never the grader's), cgroups, PID, mount,
///   IPC, UTS and network namespaces; a fresh `/tmp` and `/dev/shm`; the `untrustedCode` policy;
/// - an environment holding only the variables the request names; no descriptor of the grader
///   (the process is started by rft, never by the grader) and none of the grader's files;
/// - limits per run, each at most the manifest's `exec` value.
/// When a run ends (or a session is closed) its PID namespace dies and its `/tmp` is gone.
final class ExecService: @unchecked Sendable {
    let settings: ExecSettings
    private let lock = NSCondition()
    /// Sandboxes by policy (a policy is compiled once); a handful at most, least recently used evicted.
    private var sandboxes: [(policy: SandboxPolicy, sandbox: Sandbox)] = []
    private var active = 0
    static let maxSandboxes = 8

    init(settings: ExecSettings) { self.settings = settings }

    /// Per-run limits, each defaulting to (and capped by) the manifest's `exec` value.
    struct Limits: Equatable {
        var timeoutMs, cpuMs, memoryMB, maxPids, maxOutputBytes, maxFileMB, maxOpenFiles: Int
    }

    /// A request the service refuses, with the reason (sent back to the grader as `error`).
    struct RequestError: Error { var message: String }

    /// Reads `limits` of a request: unknown keys and values above the manifest's are errors.
    func limits(_ v: JSONValue?) throws -> Limits {
        let s = settings
        var l = Limits(timeoutMs: s.timeoutMs, cpuMs: s.timeoutMs, memoryMB: s.memoryMB, maxPids: s.maxPids,
                       maxOutputBytes: s.maxOutputBytes, maxFileMB: s.maxFileMB, maxOpenFiles: s.maxOpenFiles)
        guard let v, !v.isNull else { return l }
        guard let obj = v.objectValue else { throw RequestError(message: "limits must be an object, got \(v.typeName)") }
        let allowed = s.requestLimits
        for (key, value) in obj {
            guard let range = allowed.first(where: { $0.key == key })?.range else {
                throw RequestError(message: "limits.\(key): unknown limit; known: \(allowed.map(\.key).joined(separator: ", "))")
            }
            guard let d = value.doubleValue, d == d.rounded(), abs(d) < 1e15 else {
                throw RequestError(message: "limits.\(key) must be an integer, got \(value.jsonString)")
            }
            let n = Int(d)
            guard range.contains(n) else {
                throw RequestError(message: "limits.\(key) must be \(range.lowerBound)...\(range.upperBound) (the manifest's exec limit), got \(n)")
            }
            switch key {
            case "timeout_ms": l.timeoutMs = n; if obj["cpu_ms"] == nil { l.cpuMs = n }
            case "cpu_ms": l.cpuMs = n
            case "memory_mb": l.memoryMB = n
            case "max_pids": l.maxPids = n
            case "max_output_bytes": l.maxOutputBytes = n
            case "max_file_mb": l.maxFileMB = n
            default: l.maxOpenFiles = n
            }
        }
        return l
    }

    /// The policy of one run (`session` false) or one session (its deadline is the session lifetime;
    /// each call has its own deadline on top).
    func policy(_ l: Limits, session: Bool) -> SandboxPolicy {
        var p = SandboxPolicy.untrustedCode
        p.wallTimeoutMs = session ? settings.sessionTimeoutMs : l.timeoutMs
        p.cpuTimeMs = session ? settings.sessionTimeoutMs : l.cpuMs
        p.memoryMB = l.memoryMB
        p.maxPids = l.maxPids
        p.maxOutputBytes = l.maxOutputBytes
        p.maxFileSizeMB = l.maxFileMB
        p.maxOpenFiles = l.maxOpenFiles
        p.scratchSizeMB = settings.scratchMB
        p.network = .none
        p.readOnlyPaths = []
        p.allowEnv = []
        p.environment = [:]  // empty unless the request passes variables
        return p
    }

    private func sandbox(for policy: SandboxPolicy) throws -> Sandbox {
        lock.lock(); defer { lock.unlock() }
        if let i = sandboxes.firstIndex(where: { $0.policy == policy }) {
            let entry = sandboxes.remove(at: i)
            sandboxes.append(entry)
            return entry.sandbox
        }
        let s = try Sandbox(policy: policy)
        sandboxes.append((policy, s))
        // A run still using an evicted sandbox keeps it alive until it ends.
        if sandboxes.count > Self.maxSandboxes { sandboxes.removeFirst() }
        return s
    }

    /// Sessions holding a place (a session a grader never closes gives its place back once its
    /// process is gone, at the latest after `session_timeout_ms`).
    private var live: [ExecSession] = []

    /// Waits for one of `concurrency` places until `deadline`; false when none came free.
    func acquire(deadline: UInt64) -> Bool {
        lock.lock()
        while active >= settings.concurrency {
            let now = FrameChannel.now()
            if now >= deadline { lock.unlock(); return false }
            let gone = live.filter(\.processExited)
            if !gone.isEmpty {
                lock.unlock()
                for s in gone { s.releasePlace() }
                lock.lock()
                continue
            }
            _ = lock.wait(until: Date(timeIntervalSinceNow: min(Double(deadline - now) / 1e9, 0.1)))
        }
        active += 1
        lock.unlock()
        return true
    }

    func release() {
        lock.lock(); active -= 1; lock.signal(); lock.unlock()
    }

    /// One run to completion: `argv` with `stdin` and exactly `environment`. Never throws.
    /// The caller holds a place (``acquire(deadline:)``).
    func run(_ argv: [String], stdin: [UInt8], environment: [String: String], limits: Limits) -> Outcome {
        do {
            return try sandbox(for: policy(limits, session: false)).run(argv, stdin: stdin, environment: environment)
        } catch let e as SandboxError {
            return .sandboxError(e)
        } catch {
            return .sandboxError(SandboxError(layer: "exec-service", message: "\(error)"))
        }
    }

    /// Starts a session: `argv` gets a request pipe on fd 3 and a reply pipe on fd 4 (one line per
    /// message); its stdin is empty. The caller holds a place until the session ends.
    func open(_ argv: [String], environment: [String: String], limits: Limits) throws -> ExecSession {
        let p = try sandbox(for: policy(limits, session: true)).spawn(argv, environment: environment, channels: true)
        p.closeStdin()
        let s = ExecSession(process: p, limits: limits, service: self)
        lock.lock(); live.append(s); lock.unlock()
        return s
    }

    /// Gives a session's place back (once per session, see ``ExecSession/releasePlace()``).
    fileprivate func sessionDone(_ s: ExecSession) {
        lock.lock()
        live.removeAll { $0 === s }
        active -= 1
        lock.signal()
        lock.unlock()
    }
}

/// A long-lived untrusted process serving one grader: line-oriented requests on its fd 3, replies on
/// its fd 4. Nothing it writes is trusted: a reply line is handed to the grader as data.
final class ExecSession: @unchecked Sendable {
    /// How one exchange ended: a reply line, or the session is over (with how it ended).
    enum Reply { case line([UInt8]), ended(Outcome) }

    private let process: SandboxedProcess
    private let limits: ExecService.Limits
    private weak var service: ExecService?
    private let lock = NSLock()
    private let placeLock = NSLock()
    private var placeHeld = true
    private var buffer: [UInt8] = []
    private var stdout: [UInt8] = []
    private var stderr: [UInt8] = []
    private var truncated = false
    private var ended: Outcome?

    init(process: SandboxedProcess, limits: ExecService.Limits, service: ExecService) {
        self.process = process
        self.limits = limits
        self.service = service
    }

    /// Whether every process of the session is gone.
    var processExited: Bool { process.hasExited }

    /// Gives the session's exec place back; idempotent.
    func releasePlace() {
        placeLock.lock()
        let held = placeHeld
        placeHeld = false
        placeLock.unlock()
        if held { service?.sessionDone(self) }
    }

    var isOver: Bool { lock.lock(); defer { lock.unlock() }; return ended != nil }

    /// Writes `data` (a newline is added when missing) to the process's fd 3, then reads one line from
    /// its fd 4, all within `timeoutMs`. Without `data` it only reads. A timeout, a line longer than
    /// `max_output_bytes`, output past the cap, or the process ending all end the session.
    func exchange(_ data: [UInt8]?, timeoutMs: Int) -> Reply {
        lock.lock(); defer { lock.unlock() }
        if let o = ended { return .ended(o) }
        let deadline = FrameChannel.now() + UInt64(timeoutMs) * 1_000_000
        if var data {
            if data.last != 0x0A { data.append(0x0A) }
            if !FrameChannel.writeAll(process.requestFD, data, deadline: deadline) {
                return .ended(finish(FrameChannel.now() >= deadline ? .timeout : .closed))
            }
        }
        let fd = process.responseFD
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<nl])
                buffer.removeFirst(nl + 1)
                return .line(line)
            }
            if buffer.count > limits.maxOutputBytes { return .ended(finish(.outputLimit)) }
            collectOutput()
            if truncated { return .ended(finish(.outputLimit)) }
            let ms = FrameChannel.remainingMs(deadline)
            if ms == 0 { return .ended(finish(.timeout)) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, min(ms, 20))  // wakes to check the output cap
            if r < 0 && errno != EINTR { return .ended(finish(.closed)) }
            if r <= 0 { continue }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n > 0 { buffer.append(contentsOf: chunk[0..<n]); continue }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            return .ended(finish(.closed))
        }
    }

    /// SIGKILLs the session without waiting for a call in progress (which then ends at once).
    func abort() { process.kill(reason: .shutdown) }

    /// Ends the session (SIGKILL to its PID namespace) and reports it: `ok` with the message "closed"
    /// when it was still serving, else how it had ended. Idempotent.
    func close() -> Outcome {
        lock.lock(); defer { lock.unlock() }
        if let o = ended { return o }
        return finish(.closedByGrader)
    }

    private enum End { case timeout, outputLimit, closed, closedByGrader }

    /// Kills what is left, reaps it and builds the outcome (call with `lock` held).
    private func finish(_ why: End) -> Outcome {
        switch why {
        case .timeout: process.kill(reason: .timeout)
        case .outputLimit, .closedByGrader: process.kill(reason: .shutdown)
        case .closed:
            // The reply pipe closed: the process is most likely exiting; let its own status be reported.
            let grace = FrameChannel.now() + 500_000_000
            while !process.hasExited && FrameChannel.now() < grace { usleep(500) }
            if !process.hasExited { process.kill(reason: .shutdown) }
        }
        var o = process.wait()
        collectOutput()
        o.stdout = String(decoding: stdout + Array(o.stdout.utf8).prefix(max(0, limits.maxOutputBytes - stdout.count)), as: UTF8.self)
        o.stderr = String(decoding: stderr + Array(o.stderr.utf8).prefix(max(0, limits.maxOutputBytes - stderr.count)), as: UTF8.self)
        o.stdoutTruncated = o.stdoutTruncated || truncated
        if why == .outputLimit && o.status != .memory_limit && o.status != .syscall_violation {
            o.status = .output_limit
            o.message = "output exceeded \(limits.maxOutputBytes) bytes; the session was stopped"
        } else if why == .closedByGrader && (o.status == .signaled && o.signal == "SIGKILL") {
            o.status = .ok
            o.exitCode = nil
            o.signal = nil
            o.message = "closed"
        } else if why == .timeout && o.status == .timeout {
            o.message = "no reply before the call's deadline; every process was killed"
        }
        ended = o
        return o
    }

    private func collectOutput() {
        let (out, err, cut) = process.takeOutput()
        let cap = limits.maxOutputBytes
        if !out.isEmpty {
            let room = max(0, cap - stdout.count)
            stdout += out.prefix(room)
            if out.count > room { truncated = true }
        }
        if !err.isEmpty { stderr += err.prefix(max(0, cap - stderr.count)) }
        if cut { truncated = true }
    }

}
