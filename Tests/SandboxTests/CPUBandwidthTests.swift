import XCTest
@testable import Sandbox

/// `cpuMsPerSec`: the cpu cgroup's CFS quota caps how much CPU a sandbox gets per second of wall time.
final class CPUBandwidthTests: XCTestCase {
    /// A busy loop that stops itself after 1.5 s of wall time (so it never needs killing).
    static let busyLoop = py("""
        import time
        t = time.monotonic()
        while time.monotonic() - t < 1.5:
            pass
        """)

    private func skipWithoutCPUCgroup() throws {
        try XCTSkipIf(CgroupSupport.shared.mounts["cpu"] == nil,
                      "cpu cgroup unavailable: \(CgroupSupport.shared.missing["cpu"] ?? "?")")
    }

    /// The slot's cpu cgroup directory and its quota as the kernel reports it
    /// (v1 `cpu.cfs_quota_us`, v2 the first field of `cpu.max`).
    private func cpuQuota(_ sandbox: Sandbox, file: StaticString = #filePath, line: UInt = #line) -> (dir: String, quota: String)? {
        let mount = CgroupSupport.shared.mounts["cpu"]!
        guard let dir = sandbox.cgroupDirectories.first(where: { $0.hasPrefix(mount + "/") }) else {
            XCTFail("no cpu cgroup among \(sandbox.cgroupDirectories)", file: file, line: line)
            return nil
        }
        let v2 = CgroupSupport.shared.isV2("cpu")
        let text = readText(dir + (v2 ? "/cpu.max" : "/cpu.cfs_quota_us")) ?? ""
        return (dir, String(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first ?? ""))
    }

    private var unlimited: String { CgroupSupport.shared.isV2("cpu") ? "max" : "-1" }

    func testQuotaThrottlesABusyLoop() throws {
        try skipWithoutCPUCgroup()
        try withSandbox({ $0.cpuMsPerSec = 200 }) { sandbox in
            XCTAssertEqual(sandbox.unenforced, [])
            let o = sandbox.run(Self.busyLoop)
            XCTAssertEqual(o.status, .ok, "\(o)")
            XCTAssertGreaterThanOrEqual(o.wallMs, 1_500)
            // Unthrottled it would use ~1.5 s of CPU; at 200 ms per second about 0.3 s.
            // (Load elsewhere can only make this smaller.)
            XCTAssertGreaterThan(o.cpuMs, 0, "CPU time is reported")
            // At most 200 ms of CPU per second of wall time (with slack for the 100 ms period).
            XCTAssertLessThan(o.cpuMs, 0.3 * o.wallMs + 100, "200 ms/s must stay well under the unthrottled CPU time: \(o)")
            XCTAssertEqual(cpuQuota(sandbox)?.quota, "20000", "200 ms per 1000 ms = 20000 µs per 100000 µs period")
        }
    }

    func testUnlimitedResetsTheQuota() throws {
        try skipWithoutCPUCgroup()
        try withSandbox({ $0.cpuMsPerSec = 500 }) { sandbox in
            XCTAssertEqual(sandbox.run(["/bin/true"]).status, .ok)
            guard let (dir, quota) = cpuQuota(sandbox) else { return }
            XCTAssertEqual(quota, "50000")
            // A reused cgroup directory is rewritten: "unlimited" resets it rather than keeping the old quota.
            try SlotCgroups.setCPUBandwidth(dir: dir, v2: CgroupSupport.shared.isV2("cpu"), msPerSec: nil)
            XCTAssertEqual(cpuQuota(sandbox)?.quota, unlimited)
        }
        // A following sandbox without the limit runs unthrottled: the cpu cgroup its program is in
        // (as the program itself reports it) has no quota.
        try withSandbox { sandbox in
            let o = sandbox.run(["/bin/cat", "/proc/self/cgroup"])
            XCTAssertEqual(o.status, .ok, "\(o)")
            let v2 = CgroupSupport.shared.isV2("cpu")
            // v1: "4:cpu:/path" (or "4:cpu,cpuacct:/path"); v2: "0::/path".
            let line = o.stdout.split(separator: "\n").first { l in
                let f = l.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                return f.count == 3 && (v2 ? f[1].isEmpty : f[1].split(separator: ",").contains("cpu"))
            }
            guard let path = line?.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).last else {
                return XCTFail("no cpu cgroup line in \(o.stdout)")
            }
            let dir = CgroupSupport.shared.mounts["cpu"]! + (path == "/" ? "" : String(path))
            // v2 without the cpu controller enabled for this cgroup has no cpu.max: no quota at all.
            let text = readText(dir + (v2 ? "/cpu.max" : "/cpu.cfs_quota_us")) ?? (v2 ? "max" : "?")
            XCTAssertEqual(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first.map(String.init), unlimited,
                           "\(dir) is throttled")
            XCTAssertEqual(sandbox.unenforced, [])
        }
    }

    func testValidationNamesTheField() {
        for bad in [0, -5, SandboxPolicy.maxCpuMsPerSec + 1] {
            var p = SandboxPolicy.grader
            p.cpuMsPerSec = bad
            XCTAssertThrowsError(try p.validate(), "\(bad)") { e in
                XCTAssertTrue("\(e)".contains("cpuMsPerSec"), "\(e)")
            }
        }
        var p = SandboxPolicy.grader
        p.cpuMsPerSec = SandboxPolicy.maxCpuMsPerSec
        XCTAssertNoThrow(try p.validate())
    }

    func testPolicyJSONRoundTrip() throws {
        let p = try JSONDecoder().decode(SandboxPolicy.self, from: Data(#"{"cpuMsPerSec": 250}"#.utf8))
        XCTAssertEqual(p.cpuMsPerSec, 250)
        XCTAssertEqual(try JSONDecoder().decode(SandboxPolicy.self, from: Data("{}".utf8)).cpuMsPerSec, nil, "unlimited by default")
        XCTAssertEqual(try JSONDecoder().decode(SandboxPolicy.self, from: JSONEncoder().encode(p)), p)
    }
}
