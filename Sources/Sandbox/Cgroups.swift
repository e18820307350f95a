import Foundation

/// Which cgroup controllers rft can use here, where their hierarchies are mounted, and where rft
/// places its own cgroups.
///
/// - **cgroup v1** (one hierarchy per controller): rft's cgroups go to `<mount>/rft/…`; root only.
/// - **cgroup v2** (one unified hierarchy): rft's cgroups go below the cgroup rft itself runs in
///   (from `/proc/self/cgroup`), so under systemd they stay inside rft's own unit or scope. That
///   cgroup must be writable: root, or a delegated subtree (a systemd user session,
///   `systemd-run --user --scope -p Delegate=yes`, a delegating container runtime). cgroup v2 lets
///   a cgroup enable controllers for its children only while it has no processes of its own, so
///   the processes of rft's own cgroup are first moved into a `rft-leaf` child (the root cgroup is
///   exempt from that rule).
struct CgroupSupport: Sendable {
    enum Version: String, Sendable { case v1, v2 }
    /// Controller name ("memory", "pids", "cpuacct", "cpu") → mount point of its hierarchy.
    var mounts: [String: String] = [:]
    var version: Version? = nil
    /// Controller → why it is unusable, and the fix.
    var missing: [String: String] = [:]
    /// cgroup v2: the cgroup below which rft makes `rft/…` (rft's own cgroup, or its parent when
    /// rft already runs in the `rft-leaf` that an earlier rft process made).
    var v2Base: String? = nil

    static let wanted = ["memory", "pids", "cpuacct", "cpu"]
    /// Where the processes of rft's own cgroup go on cgroup v2 (no-internal-processes rule).
    static let leafName = "rft-leaf"

    static let shared: CgroupSupport = detect()

    /// The one line that gives an ordinary user a delegated cgroup subtree under systemd.
    static let delegationFix = "run rft in a delegated cgroup: systemd-run --user --scope -p Delegate=yes rft ..."

    static func detect() -> CgroupSupport {
        var s = CgroupSupport()
        guard let text = readText("/proc/self/mountinfo") else {
            for c in wanted { s.missing[c] = "cannot read /proc/self/mountinfo" }
            return s
        }
        var v1: [String: String] = [:]
        var v2Mount: String?
        for line in text.split(separator: "\n") {
            // "... mountpoint opts - fstype source superopts"
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " "), right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            let mountPoint = String(left[4])
            if right[0] == "cgroup" {
                for opt in right[2].split(separator: ",") where wanted.contains(String(opt)) { v1[String(opt)] = mountPoint }
            } else if right[0] == "cgroup2" && v2Mount == nil {
                v2Mount = mountPoint
            }
        }
        if !v1.isEmpty {
            // cgroup v1 (or hybrid, where the unified hierarchy has no controllers): v1 only.
            s.version = .v1
            s.mounts = v1
            for c in wanted where s.mounts[c] == nil { s.missing[c] = "the \(c) controller is not mounted (cgroup v1)" }
            for (c, m) in s.mounts where access(m, W_OK) != 0 {
                s.missing[c] = "\(m) is not writable by uid \(geteuid()): cgroup v1 needs root (v1 has no safe delegation)"
                s.mounts[c] = nil
            }
            return s
        }
        guard let mount = v2Mount else {
            for c in wanted { s.missing[c] = "no cgroup filesystem is mounted (neither v1 nor v2); fix: mount -t cgroup2 none /sys/fs/cgroup" }
            return s
        }
        s.version = .v2
        let base = v2BaseDirectory(mount: mount)
        s.v2Base = base
        if access(base, W_OK) != 0 || access(base + "/cgroup.procs", W_OK) != 0 || access(base + "/cgroup.subtree_control", W_OK) != 0 {
            let why = "\(base) (rft's own cgroup, from /proc/self/cgroup) is not writable by uid \(geteuid()); fix: "
                + (geteuid() == 0 ? "mount cgroup2 read-write (a container needs a writable /sys/fs/cgroup, e.g. docker run --cgroupns=private with a cgroup v2 host)" : delegationFix)
            for c in wanted { s.missing[c] = why }
            return s
        }
        let available = Set((readText(base + "/cgroup.controllers") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        for c in wanted {
            // cpu.stat (CPU time) is a core file of every v2 cgroup: "cpuacct" needs no controller.
            if c == "cpuacct" || available.contains(c) {
                s.mounts[c] = mount
            } else {
                s.missing[c] = "the \(c) controller is not delegated to \(base) (its parent's cgroup.subtree_control lacks +\(c)); fix: "
                    + (geteuid() == 0 ? "echo +\(c) > \(parentDirectory(base))/cgroup.subtree_control"
                                      : "ask for it in the delegation: systemd-run --user --scope -p Delegate=\"memory pids cpu\" rft ...")
            }
        }
        return s
    }

    /// rft's own cgroup v2 directory, or its parent when rft runs in an `rft-leaf` (moved there by
    /// an earlier rft process that shares the cgroup).
    static func v2BaseDirectory(mount: String) -> String {
        var path = "/"
        for line in (readText("/proc/self/cgroup") ?? "").split(separator: "\n") where line.hasPrefix("0::") {
            path = String(line.dropFirst(3))
        }
        let own = path == "/" ? mount : mount + path
        if own.hasSuffix("/" + leafName) { return parentDirectory(own) }
        return own
    }

    static func parentDirectory(_ dir: String) -> String {
        guard let i = dir.lastIndex(of: "/"), i != dir.startIndex else { return "/" }
        return String(dir[..<i])
    }

    func isV2(_ controller: String) -> Bool { version == .v2 && mounts[controller] != nil }

    /// The directory under which `rft/` is made for this controller.
    func base(_ controller: String) -> String? {
        guard let m = mounts[controller] else { return nil }
        return version == .v2 ? v2Base : m
    }

    /// Every directory holding an `rft/` hierarchy.
    var bases: Set<String> { Set(Self.wanted.compactMap { base($0) }) }
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

    // MARK: cgroup v2

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

    private static let baseLock = NSLock()

    /// Makes `base` able to enable controllers for its children: moves its processes (rft itself,
    /// and whatever shares its cgroup) into `base/rft-leaf`, then enables the controllers.
    static func prepareV2Base(_ base: String, enable: [String]) throws {
        baseLock.lock(); defer { baseLock.unlock() }
        let isRoot = access(base + "/cgroup.type", F_OK) != 0 // only the root cgroup lacks it
        if !isRoot && !hasControllers(enable, in: base) {
            let leaf = base + "/" + CgroupSupport.leafName
            // Processes may fork while we move them: repeat until the cgroup is empty.
            for _ in 0..<20 {
                let pids = (readText(base + "/cgroup.procs") ?? "").split(separator: "\n")
                if pids.isEmpty { break }
                try mkdirOK(leaf)
                for pid in pids {
                    do { try write(leaf + "/cgroup.procs", String(pid)) } catch let e as SandboxError {
                        if kill(Int32(pid) ?? 0, 0) != 0 && errno == ESRCH { continue } // it exited meanwhile
                        throw SandboxError(layer: "cgroup", message: "moving process \(pid) out of \(base) into \(leaf) (cgroup v2 allows child cgroups with controllers only below a cgroup without processes): \(e.message)")
                    }
                }
            }
        }
        try enableControllers(enable, in: base)
    }

    static func hasControllers(_ names: [String], in dir: String) -> Bool {
        let on = Set((readText(dir + "/cgroup.subtree_control") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        return names.allSatisfy(on.contains)
    }

    /// Writes `+c` for each controller to `dir/cgroup.subtree_control`, naming the cause on failure.
    static func enableControllers(_ names: [String], in dir: String) throws {
        if names.isEmpty || hasControllers(names, in: dir) { return }
        let file = dir + "/cgroup.subtree_control"
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SandboxError(layer: "cgroup", message: "open \(file): \(errnoText(errno))") }
        defer { close(fd) }
        let text = names.map { "+" + $0 }.joined(separator: " ")
        if text.withCString({ Glibc.write(fd, $0, strlen($0)) }) < 0 {
            let e = errno
            let hint: String
            switch e {
            case EBUSY: hint = "the cgroup has processes of its own (cgroup v2's no-internal-processes rule)"
            case ENOENT: hint = "a controller is not available here: the parent's cgroup.subtree_control lacks it"
            case EACCES, EPERM: hint = geteuid() == 0 ? "permission denied" : CgroupSupport.delegationFix
            default: hint = errnoText(e)
            }
            throw SandboxError(layer: "cgroup", message: "writing \"\(text)\" to \(file): \(errnoText(e)) (\(hint))")
        }
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

    private static func mkdirOK(_ dir: String) throws {
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
