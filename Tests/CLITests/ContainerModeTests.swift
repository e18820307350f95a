import Foundation
import Glibc
import XCTest

/// rft as root inside an unprivileged container: `Fixtures/docker-default-profile.py` applies, for
/// real, what Docker's defaults apply (a seccomp filter refusing unshare, setns, mount and clone
/// with namespace flags, ENOSYS for clone3, no CAP_SYS_ADMIN), then execs rft.
final class ContainerModeTests: XCTestCase {
    static let wrapper = ["/usr/bin/python3", URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/docker-default-profile.py").path]

    override func setUpWithError() throws {
        try XCTSkipIf(geteuid() != 0, "the container simulation and no-namespace mode need root")
        try XCTSkipIf(!FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/libseccomp.so.2"), "needs libseccomp.so.2")
    }

    private func confined(_ args: [String]) throws -> [String: Any] {
        let r = try RFTBinary.run(["sandbox", "run"] + args, wrapper: Self.wrapper)
        XCTAssertEqual(r.status, 0, "rft sandbox run exits 0 with an outcome: \(r.stderr)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout + r.stderr)
    }

    func testRefusesWithoutOptInNamingTheDeniedNamespaces() throws {
        let o = try confined(["--", "/bin/true"])
        XCTAssertEqual(o["status"] as? String, "sandbox_error", "\(o)")
        XCTAssertEqual(o["layer"] as? String, "namespaces", "\(o)")
        let m = o["message"] as? String ?? ""
        for s in ["CLONE_NEWPID (EPERM", "CLONE_NEWNS", "CLONE_NEWNET", "seccomp filter is applied to rft itself",
                  "CAP_SYS_ADMIN", "docs/SANDBOX.md#containers", "--allow-degraded"] {
            XCTAssertTrue(m.contains(s), "\(s) missing from: \(m)")
        }
    }

    func testAnOrdinaryUserIsRefusedEvenWithTheOptIn() throws {
        try XCTSkipIf(!FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs setpriv")
        let asNobody = Self.wrapper + ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        let r = try RFTBinary.run(["sandbox", "run", "--allow-degraded", "--", "/bin/true"], cwd: URL(fileURLWithPath: "/tmp"),
                                  wrapper: asNobody)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout + r.stderr)
        XCTAssertEqual(o["status"] as? String, "sandbox_error", "\(o)")
        let m = o["message"] as? String ?? ""
        XCTAssertTrue(m.contains("CLONE_NEWUSER (EPERM"), m)
        XCTAssertTrue(m.contains("Degraded mode cannot help here"), m)
    }

    func testOptInRunsWithTheLayersThatRemain() throws {
        let ok = try confined(["--allow-degraded", "--", "/bin/sh", "-c", "id -u; echo $TMPDIR > $TMPDIR/marker; cat marker"])
        XCTAssertEqual(ok["status"] as? String, "ok", "\(ok)")
        let lines = (ok["stdout"] as? String ?? "").split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, "\(ok)")
        let uid = UInt32(lines.first ?? "") ?? 0
        XCTAssertGreaterThanOrEqual(uid, 61_000, "runs as a slot uid, not root")
        let scratch = lines.last ?? ""
        XCTAssertTrue(scratch.hasPrefix("/run/rft-scratch/"), scratch)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch), "the scratch directory is gone after the run")

        let next = try confined(["--allow-degraded", "--", "/bin/sh", "-c", "ls \(scratch) 2>/dev/null || echo gone"])
        XCTAssertEqual(next["stdout"] as? String, "gone\n", "\(next)")

        if access("/sys/fs/cgroup/memory", W_OK) == 0 {
            let hog = try confined(["--allow-degraded", "--memory-mb", "64", "--", "python3", "-c", "x = bytearray(300 << 20)"])
            XCTAssertEqual(hog["status"] as? String, "memory_limit", "\(hog)")
        }
        let net = try confined(["--allow-degraded", "--", "python3", "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM)"])
        XCTAssertEqual(net["status"] as? String, "nonzero_exit", "\(net)")
        XCTAssertTrue((net["stderr"] as? String ?? "").contains("PermissionError"), "\(net)")
    }

    func testSetsidDaemonDiesWithTheRun() throws {
        let code = """
        import os, time
        r, w = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.write(w, str(os.getpid()).encode()); os.close(w)
                time.sleep(60)
            os._exit(0)
        os.close(w)
        print(os.read(r, 20).decode())
        """
        let o = try confined(["--allow-degraded", "--", "python3", "-c", code])
        XCTAssertEqual(o["status"] as? String, "ok", "\(o)")
        let pid = Int32((o["stdout"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertGreaterThan(pid, 0, "\(o)")
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let alive = status.contains("python3")
        if alive { kill(pid, SIGKILL) } // never leave it behind, even when the test fails
        XCTAssertFalse(alive, "the daemon \(pid) outlived the run: \(status.prefix(200))")
    }

    func testInfoShowsTheOffLayersAndTheirFallbacks() throws {
        let r = try RFTBinary.run(["sandbox", "info", "--json"], wrapper: Self.wrapper)
        XCTAssertEqual(r.status, 0, r.stderr)
        let info = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(info["probe_status"] as? String, "ok", "the full probe ran a real child without namespaces: \(r.stdout)")
        XCTAssertEqual(info["isolation"] as? String, "no-namespaces", r.stdout)
        XCTAssertTrue((info["mode"] as? String ?? "").contains("no namespaces"), r.stdout)
        let layers = try XCTUnwrap(info["layers"] as? [[String: Any]])
        func layer(_ n: String) -> [String: Any]? { layers.first { $0["name"] as? String == n } }
        for n in ["pid namespace", "mount namespace", "network namespace", "ipc namespace", "uts namespace"] {
            XCTAssertEqual(layer(n)?["active"] as? Bool, false, "\(n): \(layer(n) ?? [:])")
            XCTAssertTrue((layer(n)?["detail"] as? String ?? "").contains("fallback with --allow-degraded"), "\(n): \(layer(n) ?? [:])")
        }
        XCTAssertEqual(layer("uid drop")?["active"] as? Bool, true)
        XCTAssertEqual(layer("seccomp")?["active"] as? Bool, true)
        let text = try RFTBinary.run(["sandbox", "info"], wrapper: Self.wrapper)
        XCTAssertTrue(text.stdout.contains("[off] pid namespace"), text.stdout)
    }
}
