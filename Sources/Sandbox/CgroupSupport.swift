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
