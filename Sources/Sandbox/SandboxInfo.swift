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
    /// "root" (uid drop, cgroups, prepared network namespaces) or "unprivileged" (user namespace).
    public var mode: String
    /// Outcome of a full run of /bin/true under the default grader policy.
    public var probeStatus: String
    public var probeMessage: String?
    public var layers: [Layer]

    public var text: String {
        var lines = ["rft sandbox on this machine: uid \(uid), \(mode) mode",
                     "full probe (/bin/true under the grader policy): \(probeStatus)\(probeMessage.map { " (\($0))" } ?? "")"]
        for l in layers {
            lines.append("  \(l.active ? "[on] " : "[off]") \(l.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(l.detail)")
        }
        return lines.joined(separator: "\n")
    }

    public static func probe() -> SandboxInfo {
        let root = geteuid() == 0
        var layers: [Layer] = []
        let userFlag: UInt = root ? 0 : UInt(RFT_CLONE_NEWUSER)
        func ns(_ name: String, _ flag: Int32, _ what: String) {
            let rc = rft_probe_clone(UInt(flag) | userFlag)
            layers.append(Layer(name: name, active: rc == 0,
                                detail: rc == 0 ? what : "cannot create: \(errnoText(-rc))\(root ? "" : " (inside a user namespace)")"))
        }
        if !root {
            let rc = rft_probe_clone(UInt(RFT_CLONE_NEWUSER))
            let max = readText("/proc/sys/user/max_user_namespaces")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            layers.append(Layer(name: "user namespace", active: rc == 0,
                                detail: rc == 0 ? "maps uid \(geteuid()) to itself; capabilities end at exec"
                                    : "cannot create: \(errnoText(-rc)) (user.max_user_namespaces = \(max)); without it no other namespace is available to a non-root user"))
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

        // cgroups.
        let support = root ? CgroupSupport.shared : CgroupSupport(missing: [:])
        for c in CgroupSupport.wanted {
            let what: String
            switch c {
            case "memory": what = "memory limit, peak memory and OOM-kill detection (memory_limit)"
            case "pids": what = "process/thread limit (fork bombs stop with EAGAIN)"
            case "cpu": what = "CPU bandwidth limit (cpuMsPerSec: CFS quota per 100 ms period)"
            default: what = "CPU time of the whole sandbox"
            }
            if let m = support.mounts[c] {
                layers.append(Layer(name: "cgroup \(c)", active: true, detail: "\(what); cgroup \(support.isV2(c) ? "v2" : "v1") at \(m)"))
            } else {
                let why = root ? (support.missing[c] ?? "unavailable")
                    : "not root: cgroups need root or a delegated subtree"
                let fallback: String
                switch c {
                case "memory": fallback = "fallback: RLIMIT_AS (virtual memory; OOM cannot be told apart from other failures)"
                case "pids": fallback = "fallback: RLIMIT_NPROC per uid"
                case "cpu": fallback = "no fallback: cpuMsPerSec is NOT enforced (only the CPU-time limit applies)"
                default: fallback = "fallback: rusage of the sandbox's init"
                }
                layers.append(Layer(name: "cgroup \(c)", active: false, detail: "\(why); \(fallback)"))
            }
        }
        layers.append(Layer(name: "uid drop", active: root,
                            detail: root ? "each concurrent slot runs as its own uid from \(UIDAllocator.base) (no capabilities, RLIMIT_NPROC per slot)"
                                : "not root: the code keeps your uid \(geteuid()) inside a user namespace, without capabilities after exec"))
        layers.append(Layer(name: "rlimits", active: true, detail: "CPU time, file size, open files, processes, core dumps off"))

        // Full probe.
        var status = "ok", message: String? = nil
        do {
            let o = try Sandbox(policy: .grader).run(["/bin/true"])
            status = o.status.rawValue
            if o.status != .ok { message = [o.layer, o.message].compactMap { $0 }.joined(separator: ": ") }
        } catch let e as SandboxError {
            status = OutcomeStatus.sandbox_error.rawValue
            message = e.description
        } catch {
            status = OutcomeStatus.sandbox_error.rawValue
            message = "\(error)"
        }
        return SandboxInfo(uid: geteuid(), mode: root ? "root" : "unprivileged", probeStatus: status, probeMessage: message, layers: layers)
    }
}
