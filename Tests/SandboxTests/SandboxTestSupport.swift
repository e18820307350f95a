import Foundation
import XCTest
@testable import Sandbox

let python = "/usr/bin/python3"

/// The tests' wall deadlines assume a native machine. Under emulation (the cgroup v2 guest of
/// `make test-cgroup-v2` sets `RFT_TEST_TIME_SCALE`) every policy's wall deadline is stretched by
/// this factor, so slow program start-up is not mistaken for a hang.
let testTimeScale = max(1, Int(ProcessInfo.processInfo.environment["RFT_TEST_TIME_SCALE"] ?? "") ?? 1)

/// Runs `body` with a fresh Sandbox, then asserts that nothing is left behind: no process of the
/// sandbox's uids or in its cgroups, no child of the test process, no extra host mount, and,
/// once the Sandbox is released, no cgroup directory.
func withSandbox(_ configure: (inout SandboxPolicy) -> Void = { _ in }, base: SandboxPolicy = .grader,
                 namespaces: NamespaceProbe = .shared,
                 file: StaticString = #filePath, line: UInt = #line, _ body: (Sandbox) throws -> Void) throws {
    var policy = base
    configure(&policy)
    policy.wallTimeoutMs = policy.wallTimeoutMs.map { $0 * testTimeScale }
    let mountsBefore = hostMountCount()
    var sandbox: Sandbox? = try Sandbox(policy: policy, namespaces: namespaces)
    try body(sandbox!)
    sandbox!.pool.waitForCleanup()
    let uids = sandbox!.pool.slotUIDs
    let dirs = sandbox!.cgroupDirectories
    XCTAssertEqual(processes(withUIDs: uids), [], "processes of the sandbox uids are left", file: file, line: line)
    XCTAssertEqual(childrenOfTestProcess(), [], "children of the test process are left", file: file, line: line)
    for d in dirs {
        let procs = (try? String(contentsOfFile: d + "/cgroup.procs", encoding: .utf8)) ?? ""
        XCTAssertEqual(procs.trimmingCharacters(in: .whitespacesAndNewlines), "", "\(d) still has processes", file: file, line: line)
    }
    XCTAssertEqual(hostMountCount(), mountsBefore, "host mount table changed", file: file, line: line)
    sandbox = nil
    for d in dirs {
        XCTAssertFalse(FileManager.default.fileExists(atPath: d), "cgroup \(d) is left", file: file, line: line)
    }
}

func hostMountCount() -> Int {
    ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").split(separator: "\n").count
}

/// Pids of processes whose real uid is one of `uids`.
func processes(withUIDs uids: [UInt32]) -> [Int32] {
    guard !uids.isEmpty else { return [] }
    var out: [Int32] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(entry),
              let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8) else { continue }
        for line in status.split(separator: "\n") where line.hasPrefix("Uid:") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count > 1, let uid = UInt32(fields[1]), uids.contains(uid) { out.append(pid) }
        }
    }
    return out
}

/// Pids whose parent is this test process (a leaked sandbox init would show here).
func childrenOfTestProcess() -> [Int32] {
    let me = getpid()
    var out: [Int32] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(entry),
              let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        if fields.count > 1, Int32(fields[1]) == me { out.append(pid) }
    }
    return out
}

/// A temporary host directory, removed after `body`.
func withTempDir(_ body: (String) throws -> Void) throws {
    let dir = NSTemporaryDirectory() + "rft-sandbox-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try body(dir)
}

func py(_ code: String) -> [String] { [python, "-c", code] }
