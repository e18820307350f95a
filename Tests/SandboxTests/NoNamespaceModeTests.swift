import Foundation
import XCTest
@testable import Sandbox

/// Degraded no-namespace mode (root in an unprivileged container). These tests hand the Sandbox a
/// probe result in which every namespace was denied; `Tests/CLITests/ContainerModeTests` runs rft
/// under a real Docker-like seccomp profile without CAP_SYS_ADMIN.
final class NoNamespaceModeTests: XCTestCase {
    static let denied = NamespaceProbe(
        denials: NamespaceProbe.flags(root: true).map { .init(flag: $0.name, errno: EPERM) },
        cause: "a simulated container profile")

    private func degraded(_ p: inout SandboxPolicy) { p.allowDegraded = true }

    func testOneDecisionNamesWhatWasDeniedAndTheWayOut() throws {
        XCTAssertEqual(try IsolationMode.decide(probe: NamespaceProbe(denials: [], cause: ""), root: true, allowDegraded: false), .namespaces)
        XCTAssertEqual(try IsolationMode.decide(probe: Self.denied, root: true, allowDegraded: true), .noNamespaces)
        XCTAssertThrowsError(try IsolationMode.decide(probe: Self.denied, root: true, allowDegraded: false)) {
            let e = $0 as? SandboxError
            XCTAssertEqual(e?.layer, "namespaces")
            let m = e?.message ?? ""
            for s in ["CLONE_NEWPID (EPERM", "CLONE_NEWNET", "a simulated container profile", "docs/SANDBOX.md#containers", "--allow-degraded", "RFT_ALLOW_DEGRADED=1"] {
                XCTAssertTrue(m.contains(s), "\(s) missing from: \(m)")
            }
        }
        // An ordinary user without user namespaces is refused even with the opt-in, and told why.
        XCTAssertThrowsError(try IsolationMode.decide(probe: Self.denied, root: false, allowDegraded: true)) {
            let m = ($0 as? SandboxError)?.message ?? ""
            XCTAssertTrue(m.contains("Degraded mode cannot help here"), m)
            XCTAssertFalse(m.contains("--allow-degraded"), m)
        }
        let layers = Self.denied.degradations(policy: .grader).map(\.layer)
        XCTAssertEqual(layers, ["pid namespace", "mount namespace", "network namespace", "ipc and uts namespaces"])
    }

    func testWithoutOptInTheSandboxRefuses() throws {
        XCTAssertThrowsError(try Sandbox(policy: .grader, namespaces: Self.denied)) {
            XCTAssertEqual(($0 as? SandboxError)?.layer, "namespaces")
        }
    }

    func testRunsAsTheSlotUIDInAFreshPrivateScratchDirectory() throws {
        try XCTSkipIf(geteuid() != 0, "no-namespace mode runs as root only")
        try withSandbox(degraded, namespaces: Self.denied) { sb in
            XCTAssertEqual(sb.isolation, .noNamespaces)
            XCTAssertEqual(sb.degradations.filter { $0.value == nil }.count, 4, "\(sb.unenforced)")
            let code = """
            import os, socket
            t = os.environ["TMPDIR"]; st = os.stat(t)
            print(os.getuid(), os.geteuid(), t, os.environ["HOME"], os.getcwd(), oct(st.st_mode & 0o777), st.st_uid)
            open(os.path.join(t, "left-behind"), "w").write("secret")
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
            try:
                socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                print("inet-allowed")
            except PermissionError:
                print("inet-refused")
            """
            let first = sb.run(py(code))
            XCTAssertEqual(first.status, .ok, "\(first)")
            let f = first.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
            XCTAssertEqual(f.count, 8, first.stdout)
            guard f.count == 8 else { return }
            let uid = UInt32(f[0]) ?? 0
            XCTAssertTrue(sb.pool.slotUIDs.contains(uid), "runs as a slot uid, not \(f[0])")
            XCTAssertEqual(f[1], f[0])
            XCTAssertTrue(f[2].hasPrefix(ScratchDirectory.base + "/"), f[2])
            XCTAssertEqual(f[3], f[2], "HOME is the scratch directory")
            XCTAssertEqual(f[4], f[2], "the working directory is the scratch directory")
            XCTAssertEqual(f[5], "0o700")
            XCTAssertEqual(f[6], f[0], "owned by the slot uid")
            XCTAssertEqual(f[7], "inet-refused", "network none: seccomp refuses AF_INET")
            XCTAssertFalse(FileManager.default.fileExists(atPath: f[2]), "the scratch directory is removed after the run")
            // The next run (same slot, same uid) gets a new, empty directory and cannot list the others.
            let second = sb.run(["/bin/sh", "-c", "echo $TMPDIR; ls -A $TMPDIR; ls \(f[2]) 2>/dev/null || echo gone; ls \(ScratchDirectory.base) 2>/dev/null || echo unlistable"])
            XCTAssertEqual(second.status, .ok, "\(second)")
            let lines = second.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 3, second.stdout)
            XCTAssertNotEqual(lines.first, f[2])
            XCTAssertEqual(Array(lines.dropFirst()), ["gone", "unlistable"])
        }
    }

    func testDaemonsAndEveryProcessOfTheUIDDieWithTheRun() throws {
        try XCTSkipIf(geteuid() != 0, "no-namespace mode runs as root only")
        // A setsid double-forked daemon that keeps stdout open: gone when the run returns.
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
        var daemon: Int32 = 0
        defer { // if the test fails, do not leave the daemon behind
            let slotUIDs = Array(UIDAllocator.base..<(UIDAllocator.base + UIDAllocator.count))
            if daemon > 0, processes(withUIDs: slotUIDs).contains(daemon) { kill(daemon, SIGKILL) }
        }
        try withSandbox({ $0.allowDegraded = true; $0.wallTimeoutMs = 2_000 }, namespaces: Self.denied) { sb in
            let o = sb.run(py(code))
            XCTAssertEqual(o.status, .ok, "\(o)")
            XCTAssertLessThan(o.wallMs, Double(5_000 * testTimeScale), "the run does not wait for the daemon")
            daemon = Int32(o.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            XCTAssertGreaterThan(daemon, 0, o.stdout)
            XCTAssertEqual(processes(withUIDs: sb.pool.slotUIDs), [], "the daemon (pid \(daemon)) outlived the run")
            // The wall deadline kills the whole uid too (the init is asked with SIGUSR1).
            let slow = sb.run(["/bin/sh", "-c", "sleep 30 & sleep 30"])
            XCTAssertEqual(slow.status, .timeout, "\(slow)")
        } // withSandbox asserts: no process of the slot uids, no child of this process
    }
}
