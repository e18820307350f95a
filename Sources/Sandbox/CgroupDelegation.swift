import Foundation

/// cgroup v2 delegation: making rft's own cgroup (the `v2Base` of `CgroupSupport`) able to pass
/// controllers down to the slots' cgroups, within the no-internal-processes rule.
extension SlotCgroups {
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

    /// Whether every one of `names` is already enabled in `dir/cgroup.subtree_control`.
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
}
