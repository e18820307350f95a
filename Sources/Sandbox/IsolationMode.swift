import CSpawn
import Foundation

/// How a `Sandbox` isolates its children. `IsolationMode.decide` is the one place that chooses it.
public enum IsolationMode: String, Sendable, Codable {
    /// PID, mount, IPC, UTS and network namespaces (and a user namespace when not root).
    case namespaces
    /// Degraded mode in an unprivileged container, root only: no namespaces. What remains is the
    /// per-slot uid, no_new_privs, the seccomp filter, rlimits, cgroups when writable, a fresh
    /// per-run scratch directory as working directory, `$HOME` and `$TMPDIR`, and, at the end of
    /// each run, SIGKILL for every process of the slot uid (no PID namespace does it).
    case noNamespaces = "no-namespaces"

    /// The mode for this process, or the error that explains why no sandbox can run here.
    ///
    /// - Every namespace the sandbox needs can be created: `.namespaces`.
    /// - Some cannot, root, and degraded mode is on: `.noNamespaces`.
    /// - Some cannot, degraded mode off: a `SandboxError` (layer "namespaces") naming each denied
    ///   namespace with its errno, the probable cause, the fix and the opt-in.
    /// - Some cannot and not root: always that error, since without namespaces an ordinary user has
    ///   no other uid to run the code as (it could read and signal all of the user's processes) and
    ///   no reliable way to kill what the code leaves behind.
    static func decide(probe: NamespaceProbe, root: Bool, allowDegraded: Bool) throws -> IsolationMode {
        if probe.denials.isEmpty { return .namespaces }
        if root && allowDegraded { return .noNamespaces }
        throw SandboxError(layer: "namespaces", message: probe.refusal(root: root))
    }
}

/// Which of the sandbox's namespaces this process can create: one real clone per flag in a
/// throwaway child (`rft_probe_clone`), run once per process and cached.
struct NamespaceProbe: Sendable, Equatable {
    /// A namespace whose creation failed.
    struct Denial: Sendable, Equatable {
        /// e.g. "CLONE_NEWPID".
        var flag: String
        var errno: Int32
    }
    /// Empty when every namespace could be created.
    var denials: [Denial]
    /// Why, as far as /proc/self/status tells: a seccomp filter on rft itself, a missing CAP_SYS_ADMIN.
    var cause: String

    /// The flags the sandbox needs: as root PID, mount, IPC, UTS and network; otherwise also user.
    static func flags(root: Bool) -> [(name: String, flag: Int32)] {
        var f: [(String, Int32)] = [("CLONE_NEWPID", RFT_CLONE_NEWPID), ("CLONE_NEWNS", RFT_CLONE_NEWNS),
                                    ("CLONE_NEWIPC", RFT_CLONE_NEWIPC), ("CLONE_NEWUTS", RFT_CLONE_NEWUTS),
                                    ("CLONE_NEWNET", RFT_CLONE_NEWNET)]
        if !root { f.insert(("CLONE_NEWUSER", RFT_CLONE_NEWUSER), at: 0) }
        return f
    }

    static let shared: NamespaceProbe = run(root: geteuid() == 0)

    /// One clone with every flag; only if that fails, one per flag to name the denied ones.
    static func run(root: Bool) -> NamespaceProbe {
        let flags = Self.flags(root: root)
        let user: UInt = root ? 0 : UInt(RFT_CLONE_NEWUSER)
        let all = flags.reduce(UInt(0)) { $0 | UInt($1.flag) }
        let rc = rft_probe_clone(all)
        if rc == 0 { return NamespaceProbe(denials: [], cause: "") }
        var denials: [Denial] = []
        for f in flags {
            let r = rft_probe_clone(UInt(f.flag) | (f.flag == RFT_CLONE_NEWUSER ? 0 : user))
            if r < 0 { denials.append(Denial(flag: f.name, errno: -r)) }
        }
        if denials.isEmpty { denials = [Denial(flag: flags.map(\.name).joined(separator: "|"), errno: -rc)] }
        return NamespaceProbe(denials: denials, cause: currentCause())
    }

    /// The likely reason, from this process's own status.
    static func currentCause() -> String {
        let status = readText("/proc/self/status") ?? ""
        func field(_ name: String) -> String? {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
        }
        var causes: [String] = []
        if let s = field("Seccomp"), s != "0" {
            causes.append("a seccomp filter is applied to rft itself (Seccomp: \(s) in /proc/self/status), as container runtimes' default profiles do (Docker's refuses unshare, setns, mount and clone with namespace flags)")
        }
        if let e = field("CapEff"), let bits = UInt64(e, radix: 16), bits & (1 << 21) == 0 {
            causes.append("rft lacks CAP_SYS_ADMIN (CapEff: \(e))")
        }
        if let c = ContainerDetection.current { causes.append("rft runs inside a \(c.runtime) container") }
        return causes.isEmpty ? "probably a container's seccomp profile or a missing CAP_SYS_ADMIN" : causes.joined(separator: "; ")
    }

    /// "CLONE_NEWPID (EPERM: Operation not permitted), ..."
    var deniedText: String {
        denials.map { "\($0.flag) (\(errnoName($0.errno)): \(String(cString: strerror($0.errno))))" }.joined(separator: ", ")
    }

    /// The error text when no sandbox will run.
    func refusal(root: Bool) -> String {
        var lines = ["cannot create the sandbox's namespaces: clone with \(deniedText) was refused; cause: \(cause)."]
        lines.append("Fix: give rft the namespaces (docker run --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined, or --privileged; see docs/SANDBOX.md#containers).")
        if root {
            lines.append("Or opt into degraded mode to run without namespaces (per-slot uid, seccomp, rlimits and cgroups remain; the code then sees the container's filesystem and processes under its own uid, and network is refused by seccomp only): pass --allow-degraded, set \"allow_degraded\": true in grader.json, or set RFT_ALLOW_DEGRADED=1. `rft sandbox info` shows every layer.")
        } else {
            lines.append("Degraded mode cannot help here: without a user namespace an ordinary user has no other uid to run the code as (it could read and signal every process and file of uid \(geteuid())) and no reliable way to kill what it leaves behind. Run rft as root in the container (each slot then drops to its own uid), or allow user namespaces (a seccomp profile that permits clone/unshare with CLONE_NEWUSER).")
        }
        return lines.joined(separator: "\n")
    }

    /// What no-namespace mode gives up, as degradations (all namespaces are off in that mode).
    func degradations(policy: SandboxPolicy) -> [Degradation] {
        func reason(_ flags: [String]) -> String {
            let hit = denials.filter { d in flags.contains { d.flag.contains($0) } }
            let what = hit.isEmpty ? "not used without namespaces (clone with \(deniedText) was refused)"
                                   : "clone with \(NamespaceProbe(denials: hit, cause: "").deniedText) was refused"
            return "\(what); fix: docs/SANDBOX.md#containers"
        }
        return [
            Degradation(limit: "process isolation", layer: "pid namespace",
                        fallback: "the slot's own uid: the code sees the container's processes in /proc (not the memory or environment of other uids); at the end every process of the slot uid is SIGKILLed",
                        reason: reason(["CLONE_NEWPID"])),
            Degradation(limit: "filesystem view", layer: "mount namespace",
                        fallback: "the slot uid's file permissions: the code sees the container's filesystem; its working directory, $HOME and $TMPDIR are a fresh 0700 directory removed after the run, with no size cap (scratchSizeMB \(policy.scratchSizeMB) is not enforced; RLIMIT_FSIZE caps each file)",
                        reason: reason(["CLONE_NEWNS"])),
            Degradation(limit: "network \(policy.network.rawValue)", layer: "network namespace",
                        fallback: policy.network == .none ? "seccomp only: sockets other than AF_UNIX get EPERM, but UNIX sockets of the container (by path or abstract name) stay reachable" : "nothing (network host shares the container's network anyway)",
                        reason: reason(["CLONE_NEWNET"])),
            Degradation(limit: "IPC and hostname", layer: "ipc and uts namespaces",
                        fallback: "nothing: SysV IPC and POSIX message queues are shared with the container (per-uid permissions apply); the hostname is the container's",
                        reason: reason(["CLONE_NEWIPC", "CLONE_NEWUTS"])),
        ]
    }
}

/// "EPERM", "ENOSYS", ... for the errnos a namespace probe meets; else the number.
func errnoName(_ e: Int32) -> String {
    switch e {
    case EPERM: return "EPERM"
    case ENOSYS: return "ENOSYS"
    case EINVAL: return "EINVAL"
    case ENOSPC: return "ENOSPC"
    case EUSERS: return "EUSERS"
    case EACCES: return "EACCES"
    case ENOMEM: return "ENOMEM"
    default: return "errno \(e)"
    }
}
