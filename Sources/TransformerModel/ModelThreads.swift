import CBLAS
import Foundation

/// How many threads the model's passes use, and the fork/join they run on.
///
/// Work is split statically: part `i` of `n` always gets the same items, and results are combined
/// in part order, so a pass gives the same bits on every run with the same thread count.
/// BLAS itself runs on one thread: the parts already keep every thread busy, and OpenBLAS threads
/// inside a part would oversubscribe the cores (docs/TRAINING.md, "Threads").
public enum ModelThreads {
    /// The thread count new models start with: `RFT_THREADS` when set to a positive integer,
    /// otherwise `availableCores()`. `rft --threads` overrides it for the whole process.
    public static var defaultCount: Int {
        get { lock.lock(); defer { lock.unlock() }; return override ?? environmentCount ?? detected }
        set { lock.lock(); override = max(1, newValue); lock.unlock() }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var override: Int?
    private static let environmentCount: Int? = {
        guard let s = ProcessInfo.processInfo.environment["RFT_THREADS"], let n = Int(s), n > 0 else { return nil }
        return n
    }()
    private static let detected = availableCores()

    /// Cores this process may use: the CPUs in its affinity mask, bounded by
    /// the cgroup CPU quota (v2 `cpu.max`, v1 `cpu.cfs_quota_us / cpu.cfs_period_us`, rounded up).
    public static func availableCores(cgroupRoot: String = "/sys/fs/cgroup") -> Int {
        var cores = affinityCount() ?? ProcessInfo.processInfo.activeProcessorCount
        if let quota = cgroupQuota(root: cgroupRoot) { cores = min(cores, max(1, Int(quota.rounded(.up)))) }
        return max(1, cores)
    }

    /// CPUs in this process's affinity mask (what `sched_getaffinity` returns, read from the
    /// `Cpus_allowed` hex mask of `/proc/self/status`), or nil when unreadable.
    static func affinityCount(status: String = "/proc/self/status") -> Int? {
        guard let text = try? String(contentsOfFile: status, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
        let bits = line.dropFirst("Cpus_allowed:".count).filter { $0.isHexDigit }
            .reduce(0) { $0 + (UInt8(String($1), radix: 16) ?? 0).nonzeroBitCount }
        return bits > 0 ? bits : nil
    }

    /// The CPU quota in cores of the cgroup this process is in, or nil when unlimited or unknown.
    /// Reads `<root>/<path>/cpu.max` (v2) or `<root>/cpu,cpuacct/<path>/cpu.cfs_*` (v1), walking
    /// up to the root and taking the smallest limit on the way.
    static func cgroupQuota(root: String, procSelfCgroup: String = "/proc/self/cgroup") -> Double? {
        guard let lines = try? String(contentsOfFile: procSelfCgroup, encoding: .utf8) else { return nil }
        var best: Double?
        func consider(_ q: Double?) { if let q, q > 0 { best = min(best ?? q, q) } }
        for line in lines.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let controllers = parts[1].split(separator: ","), path = String(parts[2])
            if parts[0] == "0" && controllers.isEmpty {
                for dir in ancestors(root, path) { consider(cpuMaxQuota(dir + "/cpu.max")) }
            } else if controllers.contains("cpu") {
                for base in [root + "/cpu,cpuacct", root + "/cpu"] {
                    for dir in ancestors(base, path) { consider(cfsQuota(dir)) }
                }
            }
        }
        return best
    }

    /// `root + path`, then each parent directory up to `root`.
    static func ancestors(_ root: String, _ path: String) -> [String] {
        var comps = path.split(separator: "/").map(String.init), out: [String] = []
        while true {
            out.append(([root] + comps).joined(separator: "/"))
            if comps.isEmpty { return out }
            comps.removeLast()
        }
    }

    /// Cores allowed by a cgroup v2 `cpu.max` file ("max 100000" or "150000 100000").
    static func cpuMaxQuota(_ file: String) -> Double? {
        guard let s = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        let f = s.split(whereSeparator: \.isWhitespace)
        guard f.count >= 2, let q = Double(f[0]), let p = Double(f[1]), p > 0 else { return nil }
        return q / p
    }

    /// Cores allowed by cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota −1: unlimited).
    static func cfsQuota(_ dir: String) -> Double? {
        func read(_ name: String) -> Double? {
            (try? String(contentsOfFile: dir + "/" + name, encoding: .utf8))
                .flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        guard let q = read("cpu.cfs_quota_us"), q > 0, let p = read("cpu.cfs_period_us"), p > 0 else { return nil }
        return q / p
    }

    /// Runs `body(0) … body(parts − 1)`, concurrently when `parts > 1`, and returns when all are
    /// done. The caller decides which items each part covers (see `split`), so the result does
    /// not depend on scheduling.
    static func run(_ parts: Int, _ body: (Int) -> Void) {
        _ = blasSingleThreaded
        if parts <= 1 { if parts == 1 { body(0) }; return }
        DispatchQueue.concurrentPerform(iterations: parts, execute: body)
    }

    /// Splits `0..<count` into at most `parts` contiguous ranges of near-equal `weight` sums
    /// (every range non-empty); the same inputs always give the same ranges.
    static func split(_ count: Int, parts: Int, weight: (Int) -> Int = { _ in 1 }) -> [Range<Int>] {
        let parts = max(1, min(parts, count))
        if parts == 1 { return count == 0 ? [] : [0..<count] }
        let total = (0..<count).reduce(0) { $0 + weight($1) }
        var ranges: [Range<Int>] = [], start = 0, acc = 0
        for i in 0..<count {
            acc += weight(i)
            let k = ranges.count + 1
            // Close range k when its share of the weight is reached, leaving one item per range to come.
            if k < parts, acc * parts >= total * k, count - (i + 1) >= parts - k {
                ranges.append(start..<(i + 1)); start = i + 1
            }
        }
        ranges.append(start..<count)
        return ranges
    }

    /// `0..<count` in `parts` contiguous ranges whose sizes differ by at most one.
    static func evenRanges(_ count: Int, parts: Int) -> [Range<Int>] {
        let parts = max(1, min(parts, count))
        return (0..<parts).map { i in (count * i / parts)..<(count * (i + 1) / parts) }
    }
}
