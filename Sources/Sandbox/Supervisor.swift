import CSpawn
import Foundation

/// A byte buffer that keeps at most `cap` bytes and remembers whether more arrived.
struct CappedBuffer {
    let cap: Int
    var bytes: [UInt8] = []
    var truncated = false

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        let room = cap - bytes.count
        if chunk.count <= room {
            bytes.append(contentsOf: chunk)
        } else {
            if room > 0 { bytes.append(contentsOf: chunk[0..<room]) }
            truncated = true
        }
    }
}

/// Watches one sandbox until its init exits: drains stdout/stderr into capped buffers, feeds stdin,
/// answers seccomp notifications, enforces the wall deadline, and reaps. Then builds the Outcome.
final class Supervisor: @unchecked Sendable {
    let launched: Launched
    let policy: SandboxPolicy
    let slot: Slot
    let startNs: UInt64
    let deadlineNs: UInt64?
    /// `run` stops the sandbox at the output cap; warm workers only truncate.
    let killOnOutputLimit: Bool

    let lock = NSLock()
    private var out: CappedBuffer
    private var err: CappedBuffer
    private var outOpen = true
    private var errOpen = true
    private var stdinData: [UInt8]
    private var stdinOffset = 0
    private var stdinW: Int32
    private var listener: Int32
    private var control: Int32
    private var exitMessage: rft_msg?
    private(set) var exited = false
    private var initStatus: Int32 = 0
    private var initCPUus: Int64 = 0
    private var killed = false

    // Kernel facts and the runtime's own flags.
    private var timedOut = false
    private var killReason: KillReason?
    private var violation: String?
    private var outputExceeded = false

    init(launched: Launched, policy: SandboxPolicy, slot: Slot, startNs: UInt64, stdin: [UInt8]?, killOnOutputLimit: Bool) {
        self.launched = launched
        self.policy = policy
        self.slot = slot
        self.startNs = startNs
        self.deadlineNs = policy.wallTimeoutMs.map { startNs + UInt64($0) * 1_000_000 }
        self.killOnOutputLimit = killOnOutputLimit
        out = CappedBuffer(cap: policy.maxOutputBytes)
        err = CappedBuffer(cap: policy.maxOutputBytes)
        stdinData = stdin ?? []
        stdinW = stdin == nil ? -1 : launched.stdinW
        listener = launched.listener
        control = launched.control
        exitMessage = launched.exitReport
        if stdin != nil {
            _ = fcntl(launched.stdinW, F_SETFL, O_NONBLOCK)
            if stdinData.isEmpty { closeStdin() }
        }
    }

    private func closeStdin() {
        if stdinW >= 0 { close(stdinW); stdinW = -1 }
    }

    /// Stops the sandbox: SIGKILLs its init (as pid 1 of the PID namespace, its death takes every
    /// process along), or without namespaces asks the init (SIGUSR1) to kill every process of the slot uid.
    func kill(_ reason: KillReason?) {
        lock.lock()
        // The reason only counts when the kill can still matter (the sandbox has not been reaped).
        if let reason, killReason == nil, !exited { killReason = reason }
        let already = killed || exited
        killed = true
        lock.unlock()
        if !already { _ = rft_pidfd_kill(launched.pidfd, launched.killSignal) }
    }

    /// Runs until the init has exited and the output pipes are drained.
    func run() {
        let bufSize = 65536
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bufSize, alignment: 8)
        defer { buf.deallocate() }
        var exitedAt: UInt64?
        while true {
            var fds: [pollfd] = []
            var roles: [Int] = []
            func add(_ fd: Int32, _ events: Int32, _ role: Int) {
                if fd >= 0 { fds.append(pollfd(fd: fd, events: Int16(events), revents: 0)); roles.append(role) }
            }
            if outOpen { add(launched.stdoutR, POLLIN, 1) }
            if errOpen { add(launched.stderrR, POLLIN, 2) }
            if stdinW >= 0 { add(stdinW, POLLOUT, 3) }
            if !exited {
                add(listener, POLLIN, 4)
                // The control socket is read once the init has exited (its EXIT report stays queued):
                // one wakeup less per run.
                add(launched.pidfd, POLLIN, 6)
            }
            if fds.isEmpty { break }
            var timeout: Int32 = -1
            let now = monotonicNs()
            if let exitedAt {
                // After the init exited, every writer is dead; allow a short grace for stray copies.
                let graceEnd = exitedAt + 500_000_000
                if now >= graceEnd { break }
                timeout = Int32((graceEnd - now) / 1_000_000) + 1
            } else if let d = deadlineNs, !timedOut {
                if now >= d {
                    lock.lock(); timedOut = true; lock.unlock()
                    kill(nil)
                } else {
                    timeout = Int32(min((d - now) / 1_000_000 + 1, 60_000))
                }
            }
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno != EINTR { break }
            if n <= 0 { continue }
            for (i, p) in fds.enumerated() where p.revents != 0 {
                switch roles[i] {
                case 1, 2:
                    let r = read(p.fd, buf.baseAddress, bufSize)
                    if r > 0 {
                        lock.lock()
                        if roles[i] == 1 { out.append(UnsafeRawBufferPointer(rebasing: buf[0..<r])) }
                        else { err.append(UnsafeRawBufferPointer(rebasing: buf[0..<r])) }
                        let over = out.truncated || err.truncated
                        if over { outputExceeded = true }
                        lock.unlock()
                        if over && killOnOutputLimit { kill(nil) }
                    } else if r == 0 || (errno != EAGAIN && errno != EINTR) {
                        if roles[i] == 1 { outOpen = false } else { errOpen = false }
                    }
                case 3:
                    if p.revents & Int16(POLLOUT) != 0 {
                        let w = stdinData.withUnsafeBytes { b in
                            Glibc.write(stdinW, b.baseAddress! + stdinOffset, min(b.count - stdinOffset, 65536))
                        }
                        if w > 0 { stdinOffset += w }
                        if stdinOffset >= stdinData.count || (w < 0 && errno != EAGAIN && errno != EINTR) { closeStdin() }
                    } else {
                        closeStdin()
                    }
                case 4:
                    if p.revents & Int16(POLLIN) != 0 {
                        handleNotification()
                    } else {
                        // POLLHUP: no task uses the filter any more; nothing else can arrive.
                        close(listener); listener = -1
                    }
                case 5:
                    readControl()
                case 6:
                    reapInit()
                    exitedAt = monotonicNs()
                default: break
                }
            }
        }
        closeStdin()
    }

    private func handleNotification() {
        var id: UInt64 = 0, nr: Int32 = 0, arch: UInt32 = 0, pid: UInt32 = 0
        var args = [UInt64](repeating: 0, count: 6)
        let rc = rft_notif_recv(listener, &id, &nr, &arch, &pid, &args)
        if rc == -ENOENT || rc == -EINTR { return }
        if rc < 0 { close(listener); listener = -1; return } // listener gone: calls fail with ENOSYS
        lock.lock()
        if violation == nil { violation = SyscallFilter.name(nr: nr, arch: arch) }
        lock.unlock()
        // Kill before answering: the caller stays blocked in the forbidden call until it dies, so it
        // can never go on (e.g. return a warm worker's batch) after a violation.
        kill(nil)
        _ = rft_notif_deny(listener, id, EPERM)
    }

    private func readControl() {
        var msg = rft_msg()
        var passed: Int32 = -1
        let n = rft_recv_msg(control, &msg, &passed)
        if passed >= 0 { close(passed) }
        if n <= 0 { close(control); control = -1; return }
        if msg.kind == RFT_MSG_EXIT.rawValue { exitMessage = msg }
    }

    private func reapInit() {
        // Pick up a report still queued on the control socket.
        while control >= 0 {
            var p = pollfd(fd: control, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 0) <= 0 { break }
            readControl()
        }
        var status: Int32 = 0, u: Int64 = 0, s: Int64 = 0, rss: Int64 = 0
        _ = rft_wait_pidfd(launched.pidfd, &status, &u, &s, &rss, 0)
        lock.lock()
        exited = true
        initStatus = status
        initCPUus = u + s
        lock.unlock()
        if listener >= 0 { close(listener); listener = -1 }
        if control >= 0 { close(control); control = -1 }
    }

    /// Returns and clears the output captured so far.
    func takeOutput() -> (stdout: [UInt8], stderr: [UInt8], truncated: Bool) {
        lock.lock(); defer { lock.unlock() }
        let r = (out.bytes, err.bytes, out.truncated || err.truncated)
        out = CappedBuffer(cap: policy.maxOutputBytes)
        err = CappedBuffer(cap: policy.maxOutputBytes)
        return r
    }

    /// Builds the Outcome from kernel facts and the runtime's own flags. Call after `run()`.
    func outcome() -> Outcome {
        let facts = slot.cgroups?.afterRun()
        lock.lock(); defer { lock.unlock() }
        var o = Outcome(status: .ok)
        o.wallMs = Double(monotonicNs() - startNs) / 1e6
        if let ns = facts?.cpuNs { o.cpuMs = Double(ns) / 1e6 } else { o.cpuMs = Double(initCPUus) / 1e3 }
        // Only the memory cgroup knows the peak: rusage maxrss of a vfork child includes the parent's RSS.
        o.peakMemoryBytes = facts?.peakBytes
        o.stdout = String(decoding: out.bytes, as: UTF8.self)
        o.stderr = String(decoding: err.bytes, as: UTF8.self)
        o.stdoutTruncated = out.truncated
        o.stderrTruncated = err.truncated
        if let m = exitMessage {
            if rft_wifexited(m.status) != 0 { o.exitCode = rft_wexitstatus(m.status) }
            if rft_wifsignaled(m.status) != 0 { o.signal = SignalName.of(rft_wtermsig(m.status)) }
        }
        let cpuLimitMs = policy.cpuTimeMs.map(Double.init)

        if let v = violation {
            o.status = .syscall_violation
            o.syscall = v
            o.message = "forbidden system call \(v); the sandbox was stopped"
        } else if timedOut || killReason == .timeout {
            o.status = .timeout
            o.layer = "wall"
            o.message = timedOut ? "wall-clock deadline of \(policy.wallTimeoutMs ?? 0) ms exceeded; every process was killed"
                                 : "killed by its owner at the invocation deadline"
        } else if outputExceeded && killOnOutputLimit {
            o.status = .output_limit
            o.message = "output exceeded \(policy.maxOutputBytes) bytes on \(out.truncated ? "stdout" : "stderr"); the sandbox was stopped"
        } else if facts?.oomKilled == true {
            o.status = .memory_limit
            o.layer = "memory"
            o.message = "the memory cgroup's OOM killer fired at the \(policy.memoryMB ?? 0) MB limit"
        } else if let m = exitMessage {
            if rft_wifexited(m.status) != 0 {
                o.status = o.exitCode == 0 ? .ok : .nonzero_exit
            } else {
                let sig = rft_wtermsig(m.status)
                let cpuSpent = Double(m.utime_us + m.stime_us) / 1e3
                if sig == SIGXCPU || (sig == SIGKILL && cpuLimitMs != nil && cpuSpent >= (cpuLimitMs ?? 0)) {
                    o.status = .timeout
                    o.layer = "cpu"
                    o.message = "CPU time limit of \(policy.cpuTimeMs ?? 0) ms exceeded (RLIMIT_CPU, \(o.signal ?? ""))"
                } else {
                    o.status = .signaled
                    o.message = "killed by \(o.signal ?? "a signal")"
                }
            }
        } else if killReason == .shutdown {
            o.status = .signaled
            o.signal = "SIGKILL"
            o.message = "killed by its owner (shutdown)"
        } else {
            o.status = .sandbox_error
            o.layer = "init"
            o.message = "the sandbox's init exited without a report (status \(initStatus))"
        }
        return o
    }

    /// Closes the parent's remaining ends.
    func closeAll() {
        for fd in [launched.stdoutR, launched.stderrR, launched.pidfd] where fd >= 0 { close(fd) }
        if listener >= 0 { close(listener); listener = -1 }
        if control >= 0 { close(control); control = -1 }
        closeStdin()
    }
}
