import XCTest
@testable import Sandbox

/// Where rft's cgroups go and what is written there, on whichever cgroup version this machine
/// mounts (cgroup v2 is exercised by `make test-cgroup-v2`, in a v2-only guest, as root and as an
/// ordinary user in a delegated subtree).
final class CgroupPlacementTests: XCTestCase {
    private var support: CgroupSupport { CgroupSupport.shared }

    /// The cgroup path of the program's own process, as it reports it.
    private func ownCgroup(_ sandbox: Sandbox, controller: String) throws -> String {
        let o = sandbox.run(["/bin/cat", "/proc/self/cgroup"])
        XCTAssertEqual(o.status, .ok, "\(o)")
        return try XCTUnwrap(SandboxInfo.cgroupDirs(of: o.stdout, support: support)[controller], o.stdout)
    }

    func testTheProgramRunsInTheSlotCgroupWithItsLimits() throws {
        try XCTSkipIf(support.mounts["memory"] == nil || support.mounts["pids"] == nil,
                      "needs the memory and pids cgroups: \(support.missing)")
        try withSandbox({ $0.memoryMB = 96; $0.maxPids = 24 }) { sandbox in
            let memoryDir = try ownCgroup(sandbox, controller: "memory")
            let pidsDir = try ownCgroup(sandbox, controller: "pids")
            XCTAssertTrue(sandbox.cgroupDirectories.contains(memoryDir), "\(memoryDir) not in \(sandbox.cgroupDirectories)")
            XCTAssertTrue(sandbox.cgroupDirectories.contains(pidsDir), "\(pidsDir) not in \(sandbox.cgroupDirectories)")
            let v2 = support.version == .v2
            XCTAssertEqual(readText(memoryDir + (v2 ? "/memory.max" : "/memory.limit_in_bytes"))?.trimmingCharacters(in: .whitespacesAndNewlines),
                           "\(96 << 20)")
            XCTAssertEqual(readText(pidsDir + "/pids.max")?.trimmingCharacters(in: .whitespacesAndNewlines), "24")
            if v2 {
                // Below rft's own cgroup (from /proc/self/cgroup), never elsewhere in the tree.
                let base = try XCTUnwrap(support.v2Base)
                XCTAssertTrue(memoryDir.hasPrefix(base + "/rft/"), "\(memoryDir) is not below \(base)/rft/")
                XCTAssertTrue(SlotCgroups.hasControllers(["memory", "pids"], in: base + "/rft"))
                if access(memoryDir + "/memory.swap.max", F_OK) == 0 {
                    XCTAssertEqual(readText(memoryDir + "/memory.swap.max")?.trimmingCharacters(in: .whitespacesAndNewlines), "0")
                }
            }
        }
    }

    /// cgroup v2's no-internal-processes rule: rft's own cgroup (unless it is the root) holds no
    /// process once controllers are enabled for its children; they live in `rft-leaf`.
    func testOwnProcessesMoveToALeafOnV2() throws {
        try XCTSkipIf(support.version != .v2 || support.mounts["memory"] == nil, "cgroup v2 with the memory controller only")
        try withSandbox { sandbox in
            XCTAssertEqual(sandbox.run(["/bin/true"]).status, .ok)
            let base = try XCTUnwrap(support.v2Base)
            let isRoot = access(base + "/cgroup.type", F_OK) != 0
            let mine = (readText("/proc/self/cgroup") ?? "").split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) } ?? "?"
            if isRoot {
                XCTAssertTrue(base == support.mounts["memory"], "\(base)")
            } else {
                XCTAssertEqual(readText(base + "/cgroup.procs") ?? "x", "", "\(base) must hold no processes")
                XCTAssertTrue(mine.hasSuffix("/" + CgroupSupport.leafName), "the test process moved to the leaf: \(mine)")
            }
        }
    }

    func testOOMIsMemoryLimitAndPeakIsReported() throws {
        try XCTSkipIf(support.mounts["memory"] == nil, "needs the memory cgroup: \(support.missing["memory"] ?? "")")
        try withSandbox({ $0.memoryMB = 64 }) { sandbox in
            let small = sandbox.run(py("x = bytearray(16 << 20); print(len(x))"))
            XCTAssertEqual(small.status, .ok, "\(small)")
            XCTAssertGreaterThanOrEqual(small.peakMemoryBytes ?? 0, 16 << 20, "the first run's peak is known: \(small)")
            let big = sandbox.run(py("x = bytearray(300 << 20)"))
            XCTAssertEqual(big.status, .memory_limit, "\(big)")
            XCTAssertEqual(big.layer, "memory")
        }
    }

    /// A limit the machine cannot enforce is refused, naming the limit, the reason and the fix.
    func testDegradedLimitsAreRefusedWithTheFix() throws {
        var none = CgroupSupport()
        none.version = .v2
        for c in CgroupSupport.wanted { none.missing[c] = "/sys/fs/cgroup/x is not writable by uid 1000; fix: \(CgroupSupport.delegationFix)" }
        var policy = SandboxPolicy.grader
        policy.memoryMB = 128
        policy.cpuMsPerSec = 300
        let list = Degradation.of(policy: policy, cgroups: none)
        XCTAssertEqual(list.map(\.limit), ["memoryMB", "cpuMsPerSec"])
        let text = Degradation.refusal(list)
        XCTAssertTrue(text.contains("memoryMB 128 needs the memory cgroup"), text)
        XCTAssertTrue(text.contains("cpuMsPerSec 300 needs the cpu cgroup"), text)
        XCTAssertTrue(text.contains("systemd-run --user --scope -p Delegate=yes"), text)
        XCTAssertTrue(text.contains("--allow-degraded") && text.contains("allow_degraded"), text)
        policy.memoryMB = nil
        policy.cpuMsPerSec = nil
        XCTAssertEqual(Degradation.of(policy: policy, cgroups: none), [], "no limit asked, nothing degraded")
        // Here, every limit the machine has a cgroup for is enforced.
        var here = SandboxPolicy.grader
        here.cpuMsPerSec = 500
        let expected = [("memoryMB", "memory"), ("cpuMsPerSec", "cpu")].filter { support.mounts[$0.1] == nil }.map(\.0)
        XCTAssertEqual(Degradation.of(policy: here, cgroups: support).map(\.limit), expected)
    }

    /// `rft sandbox info` marks a cgroup layer on only when the full probe ran in it.
    func testInfoMarksCgroupLayersFromTheProbe() throws {
        let info = SandboxInfo.probe()
        XCTAssertEqual(info.probeStatus, "ok", info.text)
        for c in CgroupSupport.wanted {
            let layer = try XCTUnwrap(info.layers.first { $0.name == "cgroup \(c)" }, info.text)
            XCTAssertEqual(layer.active, support.mounts[c] != nil, info.text)
            if layer.active { XCTAssertTrue(layer.detail.contains("verified: the probe ran in"), layer.detail) }
            else { XCTAssertFalse(layer.detail.isEmpty) }
        }
    }
}
