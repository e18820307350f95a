import Foundation
import XCTest
@testable import Sandbox

/// Threat rows 8-14, 16, 17 and 20: network, sockets, files, environment, other invocations, setuid,
/// /proc and /sys, inherited descriptors.
final class IsolationTests: XCTestCase {
    // Row 8: TCP/UDP to the host's own loopback fails fast unless the policy grants network.
    func testNetworkIsDeniedUnlessGranted() throws {
        let listener = try HostListener()
        let connect = py("""
        import socket
        try:
            socket.create_connection(("127.0.0.1", \(listener.port)), timeout=2); print("connected")
        except OSError as e:
            print(type(e).__name__, e.errno)
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"x", ("127.0.0.1", \(listener.port))); print("sent")
        except OSError as e:
            print(type(e).__name__, e.errno)
        """)
        try withSandbox { sandbox in
            let o = sandbox.run(connect)
            XCTAssertEqual(o.status, .ok, "\(o)")
            // EPERM from the filter, not a 2 s connect timeout; the bound only catches a hang (stretched under emulation).
            XCTAssertEqual(o.stdout, "PermissionError 1\nPermissionError 1\n")
            XCTAssertLessThan(o.wallMs, Double(3_000 * testTimeScale))
        }
        try withSandbox({ $0.network = .host }) { sandbox in
            let o = sandbox.run(connect)
            XCTAssertEqual(o.stdout.split(separator: "\n").first, "connected", "\(o)")
        }
    }

    // Row 9: host UNIX sockets by path or abstract name are unreachable.
    func testHostUnixSocketsAreUnreachable() throws {
        let name = "rft-test-\(getpid())"
        let abstract = try HostListener(unixPath: "@" + name)
        let pathSocket = try HostListener(unixPath: NSTemporaryDirectory() + name + ".sock")
        _ = (abstract, pathSocket)
        try withSandbox { sandbox in
            let o = sandbox.run(py("""
            import socket
            for addr in ["\\0\(name)", "\(pathSocket.path!)"]:
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(addr); print("connected")
                except OSError as e:
                    print(type(e).__name__)
            """))
            XCTAssertEqual(o.stdout, "ConnectionRefusedError\nFileNotFoundError\n", "\(o)")
        }
    }

    // Rows 10 and 11: secrets and the runtime's files are unreadable; nothing outside scratch is writable.
    func testHostFilesAreInvisibleOrReadOnly() throws {
        let ownFile = URL(fileURLWithPath: #filePath).path
        try withSandbox { sandbox in
            let reads = sandbox.run(py("""
            import os
            for p in ["/etc/shadow", "/root", "/root/.ssh", "/home", "\(ownFile)", "/work", "/run/rft"]:
                try:
                    (os.listdir(p) if os.path.isdir(p) else open(p).read()); print(p, "READABLE")
                except OSError as e:
                    print(p, type(e).__name__)
            """))
            XCTAssertFalse(reads.stdout.contains("READABLE"), reads.stdout)
            XCTAssertTrue(reads.stdout.contains("/etc/shadow PermissionError"), reads.stdout)

            let writes = sandbox.run(py("""
            import errno
            for p in ["/bin/sh", "/usr/bin/python3", "/etc/passwd", "/newfile", "/usr/x", "/proc/x", "/dev/x"]:
                try:
                    open(p, "a").write("x"); print(p, "WRITTEN")
                except OSError as e:
                    print(p, errno.errorcode[e.errno])
            open("/tmp/ok", "w").write("scratch is writable"); print(open("/tmp/ok").read())
            """))
            XCTAssertFalse(writes.stdout.contains("WRITTEN"), writes.stdout)
            XCTAssertTrue(writes.stdout.contains("/bin/sh EROFS") || writes.stdout.contains("/bin/sh EACCES"), writes.stdout)
            XCTAssertTrue(writes.stdout.contains("scratch is writable"), writes.stdout)
        }
    }

    // Extra read-only paths are visible and read-only, also under /tmp (staged into each scratch).
    func testReadOnlyPathsAreVisibleAndReadOnly() throws {
        try withTempDir { dir in
            try "grader data".write(toFile: dir + "/data.txt", atomically: true, encoding: .utf8)
            try withSandbox({ $0.readOnlyPaths = [dir] }) { sandbox in
                let o = sandbox.run(py("""
                import errno
                print(open("\(dir)/data.txt").read())
                try:
                    open("\(dir)/data.txt", "w")
                except OSError as e:
                    print(errno.errorcode[e.errno])
                """))
                XCTAssertEqual(o.stdout, "grader data\nEROFS\n", "\(o)")
            }
        }
    }

    // Row 12: another concurrent invocation's scratch and /proc/<pid>/environ are invisible.
    func testConcurrentInvocationsCannotSeeEachOther() throws {
        try withSandbox { sandbox in
            let group = DispatchGroup()
            var first: Outcome?
            group.enter()
            DispatchQueue.global().async {
                first = sandbox.run(["/bin/sh", "-c", "echo secret > /tmp/mine; sleep 1.5; cat /tmp/mine"],
                                    environment: ["SECRET_TOKEN": "s3cr3t"])
                group.leave()
            }
            usleep(500_000)
            let second = sandbox.run(["/bin/sh", "-c", "ls /tmp; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep SECRET; ls /proc | grep -c '^[0-9]'"])
            group.wait()
            XCTAssertEqual(first?.stdout, "secret\n")
            XCTAssertFalse(second.stdout.contains("mine"), second.stdout)
            XCTAssertFalse(second.stdout.contains("s3cr3t"), second.stdout)
        }
    }

    // Row 12: a later run in the same slot starts from an empty scratch and a fresh /proc.
    func testEachRunStartsFromAFreshScratch() throws {
        try withSandbox { sandbox in
            let first = sandbox.run(["/bin/sh", "-c", "echo left > /tmp/leftover; echo shm > /dev/shm/x; sleep 5 & echo ok"])
            XCTAssertEqual(first.stdout, "ok\n")
            sandbox.pool.waitForCleanup()
            if geteuid() == 0 { XCTAssertEqual(sandbox.pool.slotUIDs.count, 1, "the slot is reused") }
            let second = sandbox.run(["/bin/sh", "-c", "ls -A /tmp /dev/shm"])
            XCTAssertEqual(second.stdout, "/dev/shm:\n\n/tmp:\n", "\(second)")
        }
    }

    // Row 13: only allowlisted and fixed variables reach the child.
    func testEnvironmentIsClearedExceptTheAllowlist() throws {
        setenv("RFT_TEST_SECRET", "leak-me", 1)
        setenv("RFT_TEST_ALLOWED", "fine", 1)
        defer { unsetenv("RFT_TEST_SECRET"); unsetenv("RFT_TEST_ALLOWED") }
        try withSandbox({ $0.allowEnv = ["RFT_TEST_ALLOWED"]; $0.environment["FIXED"] = "1" }) { sandbox in
            let o = sandbox.run(["/usr/bin/env"], environment: ["PER_CALL": "2"])
            let names = Set(o.stdout.split(separator: "\n").map { String($0.split(separator: "=")[0]) })
            XCTAssertEqual(names, ["PATH", "HOME", "TMPDIR", "LANG", "PYTHONDONTWRITEBYTECODE", "RFT_TEST_ALLOWED", "FIXED", "PER_CALL"], o.stdout)
            XCTAssertFalse(o.stdout.contains("leak-me"))
        }
    }

    // Row 14: results travel on a pipe; a symlink left in scratch leads nowhere on the host.
    func testScratchLinksNeverReachTheHost() throws {
        try withSandbox { sandbox in
            let o = sandbox.run(["/bin/sh", "-c", "ln -s /etc/shadow /tmp/result.json; ln /etc/passwd /tmp/hard 2>&1; echo '{\"score\": 1}'"])
            XCTAssertEqual(o.stdout.split(separator: "\n").last, "{\"score\": 1}")
            XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: "/run/rft/root")) ?? [], [],
                           "the scratch lives in the sandbox's own mount namespace, never on the host")
        }
    }

    // Row 16: setuid binaries give no privilege (no_new_privs, nosuid scratch).
    func testSetuidGivesNoPrivilege() throws {
        try withSandbox { sandbox in
            let o = sandbox.run(["/bin/sh", "-c", """
            grep NoNewPrivs /proc/self/status
            cp /bin/sh /tmp/suid && chmod 4755 /tmp/suid && /tmp/suid -c 'id -u'
            /usr/bin/su -c 'id -u' root </dev/null 2>/dev/null || echo su-failed
            """])
            let lines = o.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.first?.replacingOccurrences(of: "\t", with: " "), "NoNewPrivs: 1", o.stdout)
            XCTAssertFalse(lines.contains("0"), "became root: \(o.stdout)")
            XCTAssertEqual(lines.last, "su-failed", o.stdout)
        }
    }

    // Row 17: /proc/sys, /sys and /dev/mem are denied; host processes are invisible.
    func testKernelInterfacesAreDeniedAndHostProcessesInvisible() throws {
        try withSandbox { sandbox in
            let o = sandbox.run(py("""
            import os, errno
            for p in ["/proc/sys/kernel/hostname", "/sys/kernel/mm/transparent_hugepage/enabled", "/dev/mem", "/proc/sysrq-trigger"]:
                try:
                    open(p, "w").write("x"); print(p, "WRITTEN")
                except OSError as e:
                    print(p, errno.errorcode[e.errno])
            pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
            print("pids", pids, os.getpid())
            """))
            XCTAssertFalse(o.stdout.contains("WRITTEN"), o.stdout)
            let pids = o.stdout.split(separator: "\n").last ?? ""
            XCTAssertTrue(pids.hasPrefix("pids [2] 2"), "only the sandbox's own process is visible: \(pids)")
        }
    }

    // Row 20: no stray descriptors are inherited; results can travel on a dedicated channel.
    func testNoInheritedDescriptors() throws {
        // Many parent descriptors, some not close-on-exec: none reaches the child, and a small
        // RLIMIT_NOFILE still leaves room for the launcher's own descriptors.
        let leaked = (0..<300).map { _ in open("/etc/hostname", O_RDONLY) }
        defer { for fd in leaked { close(fd) } }
        try withSandbox({ $0.maxOpenFiles = 8 }) { sandbox in
            let o = sandbox.run(["/bin/sh", "-c", "ls /proc/self/fd"])
            XCTAssertEqual(o.stdout, "0\n1\n2\n3\n", "only stdio and ls's own directory fd: \(o)")
            let many = sandbox.run(py("import os\nfds = []\ntry:\n    while True: fds.append(os.open('/dev/null', 0))\nexcept OSError as e: print(len(fds), e.errno)"))
            XCTAssertEqual(many.stdout, "5 24\n", "RLIMIT_NOFILE 8 leaves 5 descriptors beside stdio (EMFILE): \(many)")
        }
    }
}
