import CSpawn
import Foundation

/// What `rft sandbox info` reports: each layer, whether it is active, and why not. Every entry
/// comes from a probe on this machine (a namespace created, a filter compiled and loaded, a cgroup
/// made, and a full sandboxed run of /bin/true), never from configuration alone.
public struct SandboxInfo: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public var name: String
        public var active: Bool
        public var detail: String
    }
    /// The effective uid rft runs as.
    public var uid: UInt32
    /// "root" (uid drop, cgroups, prepared network namespaces), "unprivileged" (user namespace), or
    /// "root (no namespaces: degraded)" where the namespaces cannot be created.
    public var mode: String
    /// The isolation the full probe ran with ("namespaces", or "no-namespaces" in degraded mode).
    public var isolation: String?
    /// The container runtime rft runs in, when it can tell ("docker", "podman", "kubernetes", ...).
    public var container: String?
    /// Outcome of a full run of `/bin/cat /proc/self/cgroup` under the grader policy with memory, pids and CPU limits.
    public var probeStatus: String
    public var probeMessage: String?
    public var layers: [Layer]

    public var text: String {
        var lines = ["rft sandbox on this machine: uid \(uid), \(mode) mode\(container.map { ", inside a \($0) container" } ?? "")",
                     "full probe (/bin/cat /proc/self/cgroup under the grader policy, \(Self.probeMemoryMB) MB, \(Self.probePids) pids, \(Self.probeCpuMsPerSec) ms/s\(isolation == IsolationMode.noNamespaces.rawValue ? ", without namespaces as --allow-degraded would run" : "")): \(probeStatus)\(probeMessage.map { " (\($0))" } ?? "")"]
        for l in layers {
            lines.append("  \(l.active ? "[on] " : "[off]") \(l.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(l.detail)")
        }
        return lines.joined(separator: "\n")
    }

    static let probeMemoryMB = 64
    static let probePids = 16
    static let probeCpuMsPerSec = 500

    public static func probe() -> SandboxInfo {
        let root = geteuid() == 0
        var layers: [Layer] = []
        let userFlag: UInt = root ? 0 : UInt(RFT_CLONE_NEWUSER)
        let hint = ContainerDetection.current.map { "; \($0.fix)" } ?? ""
        // Without namespaces (root, degraded mode only) each namespace layer names its fallback.
        let nsProbe = NamespaceProbe.shared
        let noNamespaces = root && !nsProbe.denials.isEmpty
        let fallbacks = Dictionary(nsProbe.degradations(policy: .grader).map { ($0.layer, $0.fallback) }) { a, _ in a }
        func ns(_ name: String, _ flag: Int32, _ what: String) {
            let rc = rft_probe_clone(UInt(flag) | userFlag)
            var detail = rc == 0 ? what : "cannot create: \(errnoText(-rc))\(root ? "" : " (inside a user namespace)")\(hint)"
            if noNamespaces {
                let layer = name == "ipc namespace" || name == "uts namespace" ? "ipc and uts namespaces" : name
                detail = (rc == 0 ? "can be created, but unused: another namespace is denied (\(nsProbe.deniedText))" : detail)
                    + "; fallback with --allow-degraded: \(fallbacks[layer] ?? "none")"
            }
            layers.append(Layer(name: name, active: rc == 0 && !noNamespaces, detail: detail))
        }
        if noNamespaces {
            layers.append(Layer(name: "namespaces", active: false,
                                detail: "\(nsProbe.refusal(root: true).split(separator: "\n").first ?? "")"))
        }
        if !root {
            let rc = rft_probe_clone(UInt(RFT_CLONE_NEWUSER))
            let max = readText("/proc/sys/user/max_user_namespaces")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            layers.append(Layer(name: "user namespace", active: rc == 0,
                                detail: rc == 0 ? "maps uid \(geteuid()) to itself; capabilities end at exec"
                                    : "cannot create: \(errnoText(-rc)) (user.max_user_namespaces = \(max)); without it no other namespace is available to a non-root user\(hint)"))
        }
        ns("pid namespace", RFT_CLONE_NEWPID, "sandbox processes see only each other; its init's exit kills all of them")
        ns("mount namespace", RFT_CLONE_NEWNS, "read-only system dirs, fresh /proc, private tmpfs /tmp and /dev/shm; no /home, /root, /sys")
        ns("ipc namespace", RFT_CLONE_NEWIPC, "private SysV IPC and POSIX message queues")
        ns("uts namespace", RFT_CLONE_NEWUTS, "private hostname \"sandbox\"")
        ns("network namespace", RFT_CLONE_NEWNET, root ? "network none: a prepared empty namespace per slot (no interfaces, loopback down)"
                                                       : "network none: a fresh empty namespace per run")

        // seccomp: compile and describe; the full probe below loads it for real.
        do {
            let f = try SyscallFilter.compile(network: .none)
            layers.append(Layer(name: "seccomp", active: true,
                                detail: "\(f.program.count) BPF instructions; \(SyscallFilter.forbidden.count) forbidden calls reported as syscall_violation via a user-notification listener; sockets other than AF_UNIX get EPERM when network is none"))
        } catch {
            layers.append(Layer(name: "seccomp", active: false, detail: "\(error)"))
        }

        // Full probe: a real child under real limits. It reports its own cgroups, and each cgroup
        // layer counts as on only if the child ran in rft's cgroup with the limit written there.
        let support = CgroupSupport.shared
        var policy = SandboxPolicy.grader
        policy.memoryMB = Self.probeMemoryMB
        policy.maxPids = Self.probePids
        policy.cpuMsPerSec = Self.probeCpuMsPerSec
        policy.allowDegraded = true // report what is degraded instead of refusing
        var status = "ok", message: String? = nil
        var sandbox: Sandbox?
        var outcome: Outcome?
        do {
            let sb = try Sandbox(policy: policy)
            sandbox = sb
            let o = sb.run(["/bin/cat", "/proc/self/cgroup"])
            outcome = o
            status = o.status.rawValue
            if o.status != .ok { message = [o.layer, o.message].compactMap { $0 }.joined(separator: ": ") }
        } catch let e as SandboxError {
            status = OutcomeStatus.sandbox_error.rawValue
            message = e.description
        } catch {
            status = OutcomeStatus.sandbox_error.rawValue
            message = "\(error)"
        }
        let joined = outcome.map { Self.cgroupDirs(of: $0.stdout, support: support) } ?? [:]
        for c in CgroupSupport.wanted {
            layers.append(cgroupLayer(c, support: support, joined: joined, sandbox: sandbox, outcome: outcome,
                                      probeFailure: status == "ok" ? nil : message))
        }
        sandbox?.close()
        layers.append(Layer(name: "uid drop", active: root,
                            detail: root ? "each concurrent slot runs as its own uid from \(UIDAllocator.base) (no capabilities, RLIMIT_NPROC per slot)"
                                : "not root: the code keeps your uid \(geteuid()) inside a user namespace, without capabilities after exec"))
        layers.append(Layer(name: "rlimits", active: status == "ok",
                            detail: "CPU time, file size, open files, processes, core dumps off" + (status == "ok" ? "" : " (the full probe failed)")))
        let mode = !root ? "unprivileged" : noNamespaces ? "root (no namespaces: degraded)" : "root"
        return SandboxInfo(uid: geteuid(), mode: mode, isolation: sandbox?.isolation.rawValue, container: ContainerDetection.current?.runtime,
                           probeStatus: status, probeMessage: message, layers: layers)
    }

    /// The cgroup directory of each controller, from the child's own `/proc/self/cgroup`
    /// (v1 "4:memory:/rft/…", v2 "0::/…").
    static func cgroupDirs(of text: String, support: CgroupSupport) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard f.count == 3 else { continue }
            let path = f[2] == "/" ? "" : String(f[2])
            if f[1].isEmpty {
                if support.version == .v2 { for c in CgroupSupport.wanted { if let m = support.mounts[c] { out[c] = m + path } } }
            } else {
                for c in f[1].split(separator: ",").map(String.init) where CgroupSupport.wanted.contains(c) {
                    if let m = support.mounts[c] { out[c] = m + path }
                }
            }
        }
        return out
    }

    private static func cgroupLayer(_ c: String, support: CgroupSupport, joined: [String: String], sandbox: Sandbox?,
                                    outcome: Outcome?, probeFailure: String?) -> Layer {
        let name = "cgroup \(c)"
        let what: String, fallback: String
        switch c {
        case "memory":
            what = "memory limit, peak memory and OOM-kill detection (memory_limit)"
            fallback = "fallback: RLIMIT_AS (virtual memory; an overrun is not memory_limit); graders need --allow-degraded"
        case "pids":
            what = "process/thread limit (fork bombs stop with EAGAIN)"
            fallback = "fallback: RLIMIT_NPROC (per uid as root, per user namespace otherwise)"
        case "cpu":
            what = "CPU bandwidth limit (cpu_ms_per_sec: CFS quota per 100 ms period)"
            fallback = "no fallback: cpu_ms_per_sec is NOT enforced; graders that set it need --allow-degraded"
        default:
            what = "CPU time of the whole sandbox"
            fallback = "fallback: rusage of the sandbox's init"
        }
        guard support.mounts[c] != nil else {
            return Layer(name: name, active: false, detail: "\(support.missing[c] ?? "unavailable"); \(fallback)")
        }
        if let probeFailure { return Layer(name: name, active: false, detail: "the full probe failed: \(probeFailure); \(fallback)") }
        let owned = Set(sandbox?.cgroupDirectories ?? [])
        guard let dir = joined[c], owned.contains(dir) else {
            return Layer(name: name, active: false,
                         detail: "the probe did not run in rft's cgroup (it reported \(joined[c] ?? "none"), rft made \(owned.sorted())); \(fallback)")
        }
        let v2 = support.version == .v2
        let check: (file: String, expected: String)?
        switch c {
        case "memory": check = (v2 ? "memory.max" : "memory.limit_in_bytes", "\(UInt64(probeMemoryMB) << 20)")
        case "pids": check = ("pids.max", "\(probePids)")
        case "cpu": check = (v2 ? "cpu.max" : "cpu.cfs_quota_us", "\(probeCpuMsPerSec * SlotCgroups.cpuPeriodUs / 1000)")
        default: check = nil
        }
        if let check {
            let got = (readText(dir + "/" + check.file) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).first.map(String.init) ?? "(unreadable)"
            guard got == check.expected else {
                return Layer(name: name, active: false, detail: "\(dir)/\(check.file) reads \(got), expected \(check.expected); \(fallback)")
            }
        } else if (outcome?.cpuMs ?? 0) < 0 {
            return Layer(name: name, active: false, detail: "no CPU time was reported; \(fallback)")
        }
        return Layer(name: name, active: true, detail: "\(what); verified: the probe ran in \(dir) (cgroup \(v2 ? "v2" : "v1"))"
                     + (check.map { " with \($0.file) = \($0.expected)" } ?? ""))
    }
}
