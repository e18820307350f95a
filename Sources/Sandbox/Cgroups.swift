import Foundation

/// Which cgroup controllers rft can use here, and where their hierarchies are mounted.
struct CgroupSupport: Sendable {
    enum Version: String, Sendable { case v1, v2 }
    /// Controller name ("memory", "pids", "cpuacct", "cpu") → mount point of its hierarchy.
    var mounts: [String: String] = [:]
    var version: Version? = nil
    /// Controller → why it is unusable.
    var missing: [String: String] = [:]

    static let wanted = ["memory", "pids", "cpuacct", "cpu"]

    static let shared: CgroupSupport = detect()

    static func detect() -> CgroupSupport {
        var s = CgroupSupport()
        guard let text = readText("/proc/self/mountinfo") else {
            for c in wanted { s.missing[c] = "cannot read /proc/self/mountinfo" }
            return s
        }
        var v2Mount: String?
        for line in text.split(separator: "\n") {
            // "... mountpoint opts - fstype source superopts"
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " "), right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            let mountPoint = String(left[4])
            if right[0] == "cgroup" {
                for opt in right[2].split(separator: ",") where wanted.contains(String(opt)) {
                    s.mounts[String(opt)] = mountPoint
                    s.version = .v1
                }
            } else if right[0] == "cgroup2" && v2Mount == nil {
                v2Mount = mountPoint
            }
        }
        if let v2 = v2Mount, let ctrls = readText(v2 + "/cgroup.controllers") {
            let available = Set(ctrls.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
            for c in wanted where s.mounts[c] == nil {
                let name = c == "cpuacct" ? "cpu" : c
                if available.contains(name) { s.mounts[c] = v2; if s.version == nil { s.version = .v2 } }
            }
        }
        for c in wanted where s.mounts[c] == nil { s.missing[c] = "controller not mounted (neither cgroup v1 nor v2)" }
        for (c, m) in s.mounts where access(m, W_OK) != 0 {
            s.missing[c] = "\(m) is not writable by uid \(geteuid()) (cgroups need root or delegation)"
            s.mounts[c] = nil
        }
        return s
    }

    func isV2(_ controller: String) -> Bool {
        guard let m = mounts[controller] else { return false }
        return access(m + "/cgroup.controllers", F_OK) == 0
    }
}

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

    /// Creates `<mount>/rft/<pid>-<sandbox>/s<slot>` under each usable controller.
    init(support: CgroupSupport, name: String, policy: SandboxPolicy) throws {
        var created: [String: String] = [:]
        for c in CgroupSupport.wanted {
            guard let mount = support.mounts[c] else { continue }
            if let dir = created[mount] { if c == "memory" { memoryDir = dir }; if c == "cpuacct" { cpuDir = dir }; continue }
            // A cpu hierarchy of its own is joined only to limit bandwidth: being a separate CFS group
            // changes how the sandbox's processes are scheduled against the host (measured: a fork
            // bomb's output differs), so unlimited policies keep the previous behaviour.
            if c == "cpu" && policy.cpuMsPerSec == nil { continue }
            let v2 = support.isV2(c)
            let base = mount + "/rft"
            try Self.mkdirP(base, enable: v2 ? ["memory", "pids", "cpu"] : [])
            let parent = base + "/" + name.split(separator: "/").dropLast().joined(separator: "/")
            if parent != base + "/" { try Self.mkdirP(parent, enable: v2 ? ["memory", "pids", "cpu"] : []) }
            let dir = base + "/" + name
            if mkdir(dir, 0o755) != 0 && errno != EEXIST {
                throw SandboxError(layer: "cgroup", message: "mkdir \(dir): \(String(cString: strerror(errno)))")
            }
            dirs.append(dir)
            created[mount] = dir
            let fd = open(dir + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SandboxError(layer: "cgroup", message: "open \(dir)/cgroup.procs: \(String(cString: strerror(errno)))") }
            procsFDs.append(fd)
            if c == "memory" { memoryDir = dir; memoryV2 = v2 }
            if c == "cpuacct" { cpuDir = dir; cpuV2 = v2 }
            if c == "pids" || (v2 && support.mounts["pids"] == mount) {
                if let n = policy.maxPids { try write(dir + "/pids.max", "\(n)") }
            }
            if c == "memory" || (v2 && support.mounts["memory"] == mount) {
                if let mb = policy.memoryMB {
                    let bytes = UInt64(mb) << 20
                    if v2 {
                        try write(dir + "/memory.max", "\(bytes)")
                        try? write(dir + "/memory.swap.max", "0")
                    } else {
                        try write(dir + "/memory.limit_in_bytes", "\(bytes)")
                        if access(dir + "/memory.memsw.limit_in_bytes", F_OK) == 0 {
                            try? write(dir + "/memory.memsw.limit_in_bytes", "\(bytes)")
                        }
                        try? write(dir + "/memory.swappiness", "0")
                    }
                }
            }
        }
        // cpu may share a hierarchy with cpuacct (v1 "cpu,cpuacct") or be the v2 tree: set it on
        // whichever dir holds it, resetting it to unlimited when the policy has no limit.
        if let mount = support.mounts["cpu"], let dir = created[mount] {
            try Self.setCPUBandwidth(dir: dir, v2: support.isV2("cpu"), msPerSec: policy.cpuMsPerSec)
        }
    }

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
    private lazy var peakFD: Int32 = memoryDir.map { open($0 + (memoryV2 ? "/memory.peak" : "/memory.max_usage_in_bytes"), O_RDWR | O_CLOEXEC) } ?? -1
    private lazy var oomFD: Int32 = memoryDir.map { open($0 + (memoryV2 ? "/memory.events" : "/memory.oom_control"), O_RDONLY | O_CLOEXEC) } ?? -1
    private lazy var cpuFD: Int32 = cpuDir.map { open($0 + (cpuV2 ? "/cpu.stat" : "/cpuacct.usage"), O_RDONLY | O_CLOEXEC) } ?? -1

    /// Resets the peak counter and notes the OOM-kill and CPU counters before a run.
    func beforeRun() {
        if peakFD >= 0 { _ = "0".withCString { pwrite(peakFD, $0, 1, 0) } }
        oomBefore = oomKills()
        cpuBefore = cpuNs()
    }

    struct Facts { var peakBytes: UInt64?; var oomKilled: Bool; var cpuNs: UInt64? }

    /// Reads the counters after a run.
    func afterRun() -> Facts {
        var f = Facts(peakBytes: nil, oomKilled: false, cpuNs: nil)
        if peakFD >= 0 { f.peakBytes = UInt64(Self.pread(peakFD).trimmingCharacters(in: .whitespacesAndNewlines)) }
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

    /// Removes the slot's cgroups (they must be empty).
    func remove() {
        for fd in procsFDs + [peakFD, oomFD, cpuFD] where fd >= 0 { close(fd) }
        procsFDs = []
        for d in dirs { Self.rmdirRetrying(d) }
        dirs = []
    }

    static func rmdirRetrying(_ dir: String) {
        for attempt in 0..<50 {
            if rmdir(dir) == 0 || errno == ENOENT { return }
            if errno != EBUSY { return }
            usleep(useconds_t(1000 * min(attempt + 1, 10)))
        }
    }

    private static func mkdirP(_ dir: String, enable: [String]) throws {
        if mkdir(dir, 0o755) != 0 && errno != EEXIST {
            throw SandboxError(layer: "cgroup", message: "mkdir \(dir): \(String(cString: strerror(errno)))")
        }
        if !enable.isEmpty {
            try? write(dir + "/cgroup.subtree_control", enable.map { "+" + $0 }.joined(separator: " "))
        }
    }

    /// Removes `rft/<pid>-*` cgroups left by processes that no longer exist.
    static func sweepStale(support: CgroupSupport) {
        for mount in Set(support.mounts.values) {
            let base = mount + "/rft"
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

func write(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SandboxError(layer: "cgroup", message: "open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let n = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    guard n >= 0 else { throw SandboxError(layer: "cgroup", message: "write \(path): \(String(cString: strerror(errno)))") }
}

func readText(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

func listDirectory(_ path: String) -> [String] {
    guard let d = opendir(path) else { return [] }
    defer { closedir(d) }
    var out: [String] = []
    while let e = readdir(d) {
        let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
        if name != "." && name != ".." && e.pointee.d_type == UInt8(DT_DIR) { out.append(name) }
    }
    return out
}
