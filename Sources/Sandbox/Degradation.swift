import Foundation

/// A policy limit, or an isolation layer, that this machine can enforce only by a weaker fallback,
/// or not at all (the cgroup gaps, and in an unprivileged container the namespaces: see
/// `IsolationMode.noNamespaces`).
///
/// `Sandbox.init` refuses such a policy unless `SandboxPolicy.allowDegraded` is set (the CLI's
/// `--allow-degraded`, a manifest's `"allow_degraded": true`), so a grader never starts silently
/// weaker than its manifest says.
public struct Degradation: Sendable, Equatable, CustomStringConvertible {
    /// The policy field, e.g. `memoryMB`, or the isolation given up, e.g. `pid namespace`.
    public var limit: String
    /// The value asked for (nil for an isolation layer).
    public var value: Int?
    /// The layer that would enforce it, e.g. `cgroup memory`.
    public var layer: String
    /// What enforces it instead (or "nothing").
    public var fallback: String
    /// Why the layer is unavailable, with the fix.
    public var reason: String

    public var description: String {
        guard let value else { return "no \(layer): \(limit) rests on \(fallback) (\(reason))" }
        return "\(limit) \(value) is enforced by \(fallback), not the \(layer): \(reason)"
    }

    /// The degradations of `policy` given the cgroups available here.
    static func of(policy: SandboxPolicy, cgroups: CgroupSupport) -> [Degradation] {
        var out: [Degradation] = []
        if let mb = policy.memoryMB, cgroups.mounts["memory"] == nil {
            out.append(Degradation(limit: "memoryMB", value: mb, layer: "memory cgroup",
                                   fallback: "RLIMIT_AS (virtual memory: an overrun is an allocation failure, never memory_limit, and runtimes that reserve address space such as Go, the JVM or V8 break)",
                                   reason: cgroups.missing["memory"] ?? "the memory cgroup is unavailable"))
        }
        if let ms = policy.cpuMsPerSec, cgroups.mounts["cpu"] == nil {
            out.append(Degradation(limit: "cpuMsPerSec", value: ms, layer: "cpu cgroup",
                                   fallback: "nothing (only the CPU-time limit applies)",
                                   reason: cgroups.missing["cpu"] ?? "the cpu cgroup is unavailable"))
        }
        return out
    }

    /// The error text when degraded mode is off.
    static func refusal(_ list: [Degradation]) -> String {
        var lines = ["refusing to run with weaker limits than asked (degraded mode is off):"]
        for d in list { lines.append("  - \(d.limit) \(d.value.map(String.init) ?? "") needs the \(d.layer): \(d.reason)") }
        lines.append("Fix the cause above, or opt into degraded mode to run with the fallbacks (\(list.map { "\($0.limit): \($0.fallback)" }.joined(separator: "; "))): pass --allow-degraded, set \"allow_degraded\": true in grader.json, or set RFT_ALLOW_DEGRADED=1. `rft sandbox info` shows every layer.")
        return lines.joined(separator: "\n")
    }
}
