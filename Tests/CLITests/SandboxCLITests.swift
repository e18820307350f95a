import Foundation
import Glibc
import XCTest

/// `rft sandbox run|info` and `rft bench spawn`, run as a user would.
final class SandboxCLITests: XCTestCase {
    private func outcome(_ args: [String], stdin: String? = nil) throws -> [String: Any] {
        let r = try RFTBinary.run(["sandbox", "run"] + args, stdin: stdin)
        XCTAssertEqual(r.status, 0, "rft sandbox run exits 0 when it produced an outcome: \(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return try XCTUnwrap(obj, r.stdout)
    }

    func testRunPrintsOneJSONOutcome() throws {
        let ok = try outcome(["--", "/bin/cat"], stdin: "from stdin")
        XCTAssertEqual(ok["status"] as? String, "ok")
        XCTAssertEqual(ok["stdout"] as? String, "from stdin")
        let fail = try outcome(["--", "/bin/sh", "-c", "exit 3"])
        XCTAssertEqual(fail["status"] as? String, "nonzero_exit")
        XCTAssertEqual(fail["exit_code"] as? Int, 3)
        let missing = try outcome(["--", "/no/such/program"])
        XCTAssertEqual(missing["status"] as? String, "exec_error")
        let slow = try outcome(["--timeout-ms", "300", "--", "/bin/sleep", "10"])
        XCTAssertEqual(slow["status"] as? String, "timeout")
    }

    /// Scripts read these keys: every one is snake_case, as in all of rft's JSON (docs/CLI-JSON.md).
    func testRunOutcomeKeysAreSnakeCase() throws {
        let o = try outcome(["--", "/bin/sh", "-c", "echo hi; exit 2"])
        let keys = Set(o.keys)
        for k in ["status", "exit_code", "wall_ms", "cpu_ms", "stdout", "stderr", "stdout_truncated", "stderr_truncated"] {
            XCTAssertTrue(keys.contains(k), "\(k) missing from \(keys.sorted())")
        }
        XCTAssertEqual(o["exit_code"] as? Int, 2)
        XCTAssertEqual(o["stdout"] as? String, "hi\n")
        XCTAssertEqual(o["stdout_truncated"] as? Bool, false)
        XCTAssertGreaterThan(o["wall_ms"] as? Double ?? 0, 0)
        let notSnake = keys.filter { $0.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) == nil }
        XCTAssertEqual(notSnake, [], "keys not in snake_case: \(notSnake.sorted())")
    }

    func testCPUBandwidthFlag() throws {
        let bad = try outcome(["--cpu-ms-per-sec", "0", "--", "/bin/true"])
        XCTAssertEqual(bad["status"] as? String, "sandbox_error")
        XCTAssertTrue((bad["message"] as? String ?? "").contains("cpuMsPerSec must be in 1..."), "\(bad)")
        let ok = try outcome(["--cpu-ms-per-sec", "500", "--", "/bin/true"])
        XCTAssertEqual(ok["status"] as? String, "ok")
        let info = try RFTBinary.run(["sandbox", "info"])
        XCTAssertTrue(info.stdout.contains("cgroup cpu "), "sandbox info lists the cpu cgroup layer: \(info.stdout)")
        if geteuid() != 0 {
            XCTAssertTrue(info.stdout.contains("cpu_ms_per_sec is NOT enforced"), info.stdout)
        }
    }

    /// The acceptance check: a listener on the host's 127.0.0.1:8000 is not reachable.
    func testConnectToHostLoopbackIsDenied() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(8000).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try XCTSkipIf(bound != 0, "127.0.0.1:8000 is taken on this machine")
        XCTAssertEqual(listen(fd, 4), 0)
        let o = try outcome(["--", "python3", "-c", "import socket; socket.create_connection((\"127.0.0.1\", 8000))"])
        XCTAssertEqual(o["status"] as? String, "nonzero_exit")
        let stderr = o["stderr"] as? String ?? ""
        XCTAssertTrue(stderr.contains("PermissionError: [Errno 1] Operation not permitted"), stderr)
    }

    func testInfoAsRootAndAsAnUnprivilegedUser() throws {
        let root = try RFTBinary.run(["sandbox", "info", "--json"])
        XCTAssertEqual(root.status, 0, root.stderr)
        let info = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(root.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(info["probe_status"] as? String, "ok", root.stdout)
        let layers = try XCTUnwrap(info["layers"] as? [[String: Any]])
        let names = layers.compactMap { $0["name"] as? String }
        for n in ["pid namespace", "mount namespace", "network namespace", "seccomp", "cgroup memory", "uid drop"] {
            XCTAssertTrue(names.contains(n), "\(n) missing from \(names)")
        }
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", RFTBinary.url.path, "sandbox", "info"]
        p.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("unprivileged mode"), text)
        XCTAssertTrue(text.contains("[on]  user namespace"), text)
        XCTAssertTrue(text.contains("[off] cgroup memory") && text.contains("not writable by uid 65534"), "a missing layer says why: \(text)")
        XCTAssertTrue(text.contains("RLIMIT_AS"), "and what replaces it: \(text)")
        XCTAssertTrue(text.contains("[off] uid drop"), text)
    }

    /// `rft sandbox run ARGS` as uid 65534 (outside any delegated cgroup), decoded.
    private func unprivilegedOutcome(_ args: [String]) throws -> [String: Any] {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { throw XCTSkip("needs root and setpriv") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", RFTBinary.url.path, "sandbox", "run"] + args
        p.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        p.environment = ProcessInfo.processInfo.environment.filter { $0.key != "RFT_ALLOW_DEGRADED" }
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], String(decoding: data, as: UTF8.self))
    }

    /// Without the memory cgroup, a memory limit would only be RLIMIT_AS: rft refuses, names the
    /// missing layer and the fix, unless degraded mode is asked for.
    func testUnprivilegedWithoutCgroupsRefusesUnlessDegraded() throws {
        let refused = try unprivilegedOutcome(["--memory-mb", "64", "--", "/bin/true"])
        XCTAssertEqual(refused["status"] as? String, "sandbox_error", "\(refused)")
        let message = refused["message"] as? String ?? ""
        XCTAssertTrue(message.contains("memoryMB 64 needs the memory cgroup"), message)
        XCTAssertTrue(message.contains("--allow-degraded"), message)
        XCTAssertTrue(message.contains("Delegate=yes") || message.contains("cgroup v1 needs root"), "the fix is named: \(message)")
        // Degraded: RLIMIT_AS stops the allocation, which the program sees as MemoryError.
        let degraded = try unprivilegedOutcome(["--allow-degraded", "--memory-mb", "64", "--",
                                                "python3", "-c", "x = bytearray(300 << 20)"])
        XCTAssertEqual(degraded["status"] as? String, "nonzero_exit", "\(degraded)")
        XCTAssertTrue((degraded["stderr"] as? String ?? "").contains("MemoryError"), "\(degraded)")
    }

    func testRunAsAnUnprivilegedUser() throws {
        let o = try unprivilegedOutcome(["--allow-degraded", "--", "/bin/sh", "-c", "id -u; ls /; cat /etc/shadow 2>&1 | head -c 40; echo"])
        XCTAssertEqual(o["status"] as? String, "ok", "\(o)")
        let stdout = o["stdout"] as? String ?? ""
        XCTAssertTrue(stdout.hasPrefix("65534\n"), stdout)
        XCTAssertFalse(stdout.contains("root"), "no /root in the view: \(stdout)")
        XCTAssertTrue(stdout.contains("Permission denied"), stdout)
    }

    func testHelpHasExamples() throws {
        for cmd in [["sandbox", "run"], ["sandbox", "info"], ["bench", "spawn"]] {
            let r = try RFTBinary.run(cmd + ["--help"])
            XCTAssertTrue(r.stdout.contains("Examples") || r.stdout.contains("Example"), "\(cmd): \(r.stdout)")
        }
    }
}
