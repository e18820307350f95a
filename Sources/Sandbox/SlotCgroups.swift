import Foundation

/// The cgroups of one slot: created once, configured for the policy, reused by each run.
final class SlotCgroups {
    private(set) var dirs: [String] = []
    /// cgroup.procs of every joined hierarchy: the child writes "0" to each before exec.
    private(set) var procsFDs: [Int32] = []
    private var memoryDir: String?
    private var memoryV2 = false
    private var cpuDir: String?
    private var cpuV2 = false
    private var oomBefore: UInt64 = 0
    private var cpuBefore: UInt64 = 0
    /// Whether `memory.peak` can be reset (v1 always; v2 from Linux 6.12). Otherwise the peak is
    /// known only for the slot's first run.
    private var peakResettable = true
    private var runs = 0

    /// Creates `<base>/rft/<pid>-<sandbox>/s<slot>` under each usable controller.
    init(support: CgroupSupport, name: String, policy: SandboxPolicy) throws {
        if support.version == .v2 {
            try initV2(support: support, name: name, policy: policy)
        } else {
            try initV1(support: support, name: name, policy: policy)
        }
    }

    // MARK: cgroup v2 (rft's own cgroup is made able to delegate in CgroupDelegation.swift)

    private func initV2(support: CgroupSupport, name: String, policy: SandboxPolicy) throws {
        guard let base = support.v2Base else { return }
        // The cpu controller is enabled only to limit bandwidth: a CFS group of its own changes how
        // the sandbox is scheduled against the host, and cpu.stat needs no controller.
        let controllers = ["memory", "pids"] + (policy.cpuMsPerSec != nil ? ["cpu"] : [])
        let enable = controllers.filter { support.mounts[$0] != nil }
        try Self.prepareV2Base(base, enable: enable)
        // base/rft and base/rft/<pid>-<n> pass the controllers down; the slot's leaf holds the processes.
        let parts = ["rft"] + name.split(separator: "/").map(String.init)
        var dir = base
        for (i, part) in parts.enumerated() {
            dir += "/" + part
            try Self.mkdirOK(dir)
            if i < parts.count - 1 { try Self.enableControllers(enable, in: dir) }
        }
        dirs = [dir]
        let fd = open(dir + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SandboxError(layer: "cgroup", message: "open \(dir)/cgroup.procs: \(errnoText(errno))") }
        procsFDs = [fd]
        if support.mounts["pids"] != nil, let n = policy.maxPids { try write(dir + "/pids.max", "\(n)") }
        if support.mounts["memory"] != nil {
            memoryDir = dir; memoryV2 = true
            if let mb = policy.memoryMB {
                try write(dir + "/memory.max", "\(UInt64(mb) << 20)")
                // No swap (the file exists only with swap accounting); the whole sandbox dies on OOM.
                if access(dir + "/memory.swap.max", F_OK) == 0 { try write(dir + "/memory.swap.max", "0") }
                if access(dir + "/memory.oom.group", F_OK) == 0 { try write(dir + "/memory.oom.group", "1") }
            }
        }
        cpuDir = dir; cpuV2 = true
        if enable.contains("cpu") { try Self.setCPUBandwidth(dir: dir, v2: true, msPerSec: policy.cpuMsPerSec) }
    }

    // MARK: cgroup v1

    private func initV1(support: CgroupSupport, name: String, policy: SandboxPolicy) throws {
        var created: [String: String] = [:]
        for c in CgroupSupport.wanted {
            guard let mount = support.mounts[c] else { continue }
            if let dir = created[mount] { if c == "memory" { memoryDir = dir }; if c == "cpuacct" { cpuDir = dir }; continue }
            // A cpu hierarchy of its own is joined only to limit bandwidth: being a separate CFS group
            // changes how the sandbox's processes are scheduled against the host (measured: a fork
            // bomb's output differs), so unlimited policies keep the previous behaviour.
            if c == "cpu" && policy.cpuMsPerSec == nil { continue }
            var dir = mount
            for part in ["rft"] + name.split(separator: "/").map(String.init) {
                dir += "/" + part
                try Self.mkdirOK(dir)
            }
            dirs.append(dir)
            created[mount] = dir
            let fd = open(dir + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SandboxError(layer: "cgroup", message: "open \(dir)/cgroup.procs: \(errnoText(errno))") }
            procsFDs.append(fd)
            if c == "memory" { memoryDir = dir }
            if c == "cpuacct" { cpuDir = dir }
            if c == "pids", let n = policy.maxPids { try write(dir + "/pids.max", "\(n)") }
            if c == "memory", let mb = policy.memoryMB {
                let bytes = UInt64(mb) << 20
                try write(dir + "/memory.limit_in_bytes", "\(bytes)")
                if access(dir + "/memory.memsw.limit_in_bytes", F_OK) == 0 {
                    try? write(dir + "/memory.memsw.limit_in_bytes", "\(bytes)")
                }
                try? write(dir + "/memory.swappiness", "0")
            }
        }
        // cpu may share a hierarchy with cpuacct ("cpu,cpuacct"): set it on whichever dir holds it,
        // resetting it to unlimited when the policy has no limit.
        if let mount = support.mounts["cpu"], let dir = created[mount] {
            try Self.setCPUBandwidth(dir: dir, v2: false, msPerSec: policy.cpuMsPerSec)
        }
    }

    // MARK: Limits and counters

    /// CFS bandwidth period, in microseconds (the kernel's default).
    static let cpuPeriodUs = 100_000

    /// Writes the CPU bandwidth limit; `nil` resets it to unlimited (the dir may be reused).
    static func setCPUBandwidth(dir: String, v2: Bool, msPerSec: Int?) throws {
        // ms per 1000 ms = quota per period: quota_us = ms_per_sec × period_us / 1000.
        let quota = msPerSec.map { $0 * cpuPeriodUs / 1000 }
        if v2 {
            try write(dir + "/cpu.max", "\(quota.map(String.init) ?? "max") \(cpuPeriodUs)")
        } else {
            try write(dir + "/cpu.cfs_period_us", "\(cpuPeriodUs)")
            try write(dir + "/cpu.cfs_quota_us", "\(quota ?? -1)")
        }
    }

    var hasMemory: Bool { memoryDir != nil }

    // Counter files kept open: each run reads them with pread (no open/close on the hot path).
    private lazy var peakFD: Int32 = {
        guard let d = memoryDir else { return -1 }
        let path = d + (memoryV2 ? "/memory.peak" : "/memory.max_usage_in_bytes")
        let fd = open(path, O_RDWR | O_CLOEXEC)
        if fd >= 0 { return fd }
        peakResettable = false // memory.peak is read-only before Linux 6.12
        return open(path, O_RDONLY | O_CLOEXEC)
    }()
    private lazy var oomFD: Int32 = memoryDir.map { open($0 + (memoryV2 ? "/memory.events" : "/memory.oom_control"), O_RDONLY | O_CLOEXEC) } ?? -1
    private lazy var cpuFD: Int32 = cpuDir.map { open($0 + (cpuV2 ? "/cpu.stat" : "/cpuacct.usage"), O_RDONLY | O_CLOEXEC) } ?? -1

    /// Resets the peak counter and notes the OOM-kill and CPU counters before a run.
    func beforeRun() {
        if peakFD >= 0 && peakResettable {
            if "0".withCString({ pwrite(peakFD, $0, 1, 0) }) < 0 { peakResettable = false }
        }
        runs += 1
        oomBefore = oomKills()
        cpuBefore = cpuNs()
    }

    struct Facts { var peakBytes: UInt64?; var oomKilled: Bool; var cpuNs: UInt64? }

    /// Reads the counters after a run.
    func afterRun() -> Facts {
        var f = Facts(peakBytes: nil, oomKilled: false, cpuNs: nil)
        if peakFD >= 0 && (peakResettable || runs == 1) {
            f.peakBytes = UInt64(Self.pread(peakFD).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if oomFD >= 0 { f.oomKilled = oomKills() > oomBefore }
        if cpuFD >= 0 { f.cpuNs = cpuNs() &- cpuBefore }
        return f
    }

    private func oomKills() -> UInt64 {
        guard oomFD >= 0 else { return 0 }
        for line in Self.pread(oomFD).split(separator: "\n") where line.hasPrefix("oom_kill ") {
            return UInt64(line.dropFirst("oom_kill ".count)) ?? 0
        }
        return 0
    }

    private func cpuNs() -> UInt64 {
        guard cpuFD >= 0 else { return 0 }
        let text = Self.pread(cpuFD)
        if cpuV2 {
            for line in text.split(separator: "\n") where line.hasPrefix("usage_usec ") {
                return (UInt64(line.dropFirst("usage_usec ".count)) ?? 0) * 1000
            }
            return 0
        }
        return UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    private static func pread(_ fd: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 1024)
        let n = buf.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, 1024, 0) }
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : ""
    }

    /// The pids still in the slot's cgroups (should be none between runs).
    func processes() -> [Int32] {
        var out: [Int32] = []
        for d in dirs {
            for l in (readText(d + "/cgroup.procs") ?? "").split(separator: "\n") { if let p = Int32(l) { out.append(p) } }
        }
        return out
    }

    /// Removes the slot's cgroups, SIGKILLing anything still in them first (`cgroup.kill`, v2).
    func remove() {
        for fd in procsFDs + [peakFD, oomFD, cpuFD] where fd >= 0 { close(fd) }
        procsFDs = []
        for d in dirs {
            if access(d + "/cgroup.kill", F_OK) == 0, !(readText(d + "/cgroup.procs") ?? "").isEmpty {
                try? write(d + "/cgroup.kill", "1")
            }
            Self.rmdirRetrying(d)
        }
        dirs = []
    }

    static func rmdirRetrying(_ dir: String) {
        for attempt in 0..<50 {
            if rmdir(dir) == 0 || errno == ENOENT { return }
            if errno != EBUSY { return }
            usleep(useconds_t(1000 * min(attempt + 1, 10)))
        }
    }

    /// mkdir that accepts an existing directory and names the fix when permission is denied.
    static func mkdirOK(_ dir: String) throws {
        if mkdir(dir, 0o755) != 0 && errno != EEXIST {
            let e = errno
            throw SandboxError(layer: "cgroup", message: "mkdir \(dir): \(errnoText(e))\(e == EACCES || e == EPERM ? " (\(geteuid() == 0 ? "permission denied" : CgroupSupport.delegationFix))" : "")")
        }
    }

    /// Removes `rft/<pid>-*` cgroups left by processes that no longer exist.
    static func sweepStale(support: CgroupSupport) {
        for b in support.bases {
            let base = b + "/rft"
            for entry in listDirectory(base) {
                guard let pid = Int32(entry.split(separator: "-").first ?? ""), pid != getpid() else { continue }
                if kill(pid, 0) == 0 || errno == EPERM { continue }
                for slot in listDirectory(base + "/" + entry) where slot.hasPrefix("s") {
                    _ = rmdir(base + "/" + entry + "/" + slot)
                }
                _ = rmdir(base + "/" + entry)
            }
        }
    }
}
