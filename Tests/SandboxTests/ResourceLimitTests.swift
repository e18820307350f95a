import XCTest
@testable import Sandbox

/// Threat rows 1-7: time, memory, processes, disk, output, lingering children, daemons.
final class ResourceLimitTests: XCTestCase {
    // Row 1: busy loop, sleep, blocked read, SIGTERM ignored → timeout at the wall deadline, whole
    // namespace killed, partial output kept.
    func testWallDeadlineKillsEveryKindOfHang() throws {
        try withSandbox({ $0.wallTimeoutMs = 400 }) { sandbox in
            let hangs: [[String]] = [
                ["/bin/sh", "-c", "echo partial; while :; do :; done"],
                ["/bin/sh", "-c", "echo partial; exec sleep 30"],
                py("import socket,sys; print('partial', flush=True); a, b = socket.socketpair(); a.recv(1)"),
                ["/bin/sh", "-c", "trap '' TERM; echo partial; sleep 30 & sleep 30 & wait"],
            ]
            for argv in hangs {
                let o = sandbox.run(argv)
                XCTAssertEqual(o.status, .timeout, "\(argv): \(o)")
                XCTAssertEqual(o.layer, "wall")
                XCTAssertEqual(o.stdout, "partial\n", "partial output is kept")
                XCTAssertGreaterThanOrEqual(o.wallMs, 400)
                XCTAssertLessThan(o.wallMs, Double(5_000 * testTimeScale))
            }
        }
    }

    func testCPULimitIsATimeoutNotASignal() throws {
        try withSandbox({ $0.cpuTimeMs = 1_000; $0.wallTimeoutMs = 10_000 }) { sandbox in
            let o = sandbox.run(["/bin/sh", "-c", "while :; do :; done"])
            XCTAssertEqual(o.status, .timeout, "\(o)")
            XCTAssertEqual(o.layer, "cpu")
            XCTAssertGreaterThan(o.cpuMs, 500, "the CPU time was spent")
        }
    }

    // Row 2: heap, mmap+touch and /dev/shm past the limit → memory_limit, from the OOM counter.
    func testMemoryLimitFromTheOOMCounter() throws {
        try XCTSkipIf(CgroupSupport.shared.mounts["memory"] == nil, "needs the memory cgroup: \(CgroupSupport.shared.missing["memory"] ?? "")")
        try withSandbox({ $0.memoryMB = 64 }) { sandbox in
            let hogs: [[String]] = [
                py("x = bytearray(256 << 20)"),
                py("import mmap\nm = mmap.mmap(-1, 256 << 20)\nfor i in range(0, 256 << 20, 4096): m[i] = 1"),
                ["/bin/sh", "-c", "head -c 256M /dev/zero > /dev/shm/fill; echo survived"],
            ]
            for argv in hogs {
                let o = sandbox.run(argv)
                XCTAssertEqual(o.status, .memory_limit, "\(argv): \(o)")
                XCTAssertLessThanOrEqual(o.peakMemoryBytes ?? 0, 64 << 20 + 1 << 20)
            }
            // The next run in the same slot is unaffected.
            XCTAssertEqual(sandbox.run(["/bin/true"]).status, .ok)
        }
    }

    // Row 3: fork and thread bombs stop at the pids limit with EAGAIN; everything is gone afterwards.
    func testForkAndThreadBombsAreContained() throws {
        try withSandbox({ $0.maxPids = 32; $0.wallTimeoutMs = 3_000 }) { sandbox in
            let fork = sandbox.run(["/bin/sh", "-c", "f(){ f|f& }; f; sleep 1; echo done"])
            XCTAssertTrue([.timeout, .ok, .nonzero_exit].contains(fork.status), "\(fork)")
            XCTAssertTrue(fork.stderr.contains("Cannot fork") || fork.stderr.contains("fork"), fork.stderr)

            let threads = sandbox.run(py("""
            import threading, time
            n = 0
            try:
                for i in range(1000):
                    threading.Thread(target=time.sleep, args=(5,), daemon=True).start(); n += 1
            except RuntimeError as e:
                print("stopped", n, e)
            """))
            XCTAssertEqual(threads.status, .ok, "\(threads)")
            XCTAssertTrue(threads.stdout.hasPrefix("stopped"), threads.stdout)
            let words = threads.stdout.split(separator: " ")
            let started = words.count > 1 ? Int(words[1]) ?? 999 : 999
            XCTAssertLessThan(started, 32)
        }
    }

    // Row 4: disk fill, inode flood → ENOSPC in the capped scratch; a sparse file is never read.
    func testScratchIsCappedForBytesAndInodes() throws {
        try withSandbox({ $0.scratchSizeMB = 8; $0.maxFileSizeMB = 64 }) { sandbox in
            let fill = sandbox.run(py("""
            import errno
            try:
                with open("/tmp/fill", "wb") as f:
                    for i in range(64): f.write(b"x" * (1 << 20)); f.flush()
            except OSError as e:
                print(errno.errorcode[e.errno])
            """))
            XCTAssertEqual(fill.stdout, "ENOSPC\n", "\(fill)")
            let inodes = sandbox.run(py("""
            import errno, os
            try:
                for i in range(100000): open(f"/tmp/f{i}", "w").close()
            except OSError as e:
                print(errno.errorcode[e.errno])
            """))
            XCTAssertEqual(inodes.stdout, "ENOSPC\n", "\(inodes)")
            let sparse = sandbox.run(py("""
            f = open("/tmp/sparse", "wb"); f.seek(32 << 20); f.write(b"x"); f.close(); print("ok")
            """))
            XCTAssertEqual(sparse.status, .ok, "\(sparse)")
        }
    }

    // Row 5: gigabytes on stdout / stderr, with or without newlines → output_limit, bounded capture.
    func testOutputFloodsStopAtTheCap() throws {
        try withSandbox({ $0.maxOutputBytes = 64 << 10 }) { sandbox in
            for argv in [["/usr/bin/yes"], ["/bin/sh", "-c", "head -c 2G /dev/zero"],
                         ["/bin/sh", "-c", "yes 1>&2"]] {
                let o = sandbox.run(argv)
                XCTAssertEqual(o.status, .output_limit, "\(argv): \(o.status)")
                XCTAssertTrue(o.stdoutTruncated || o.stderrTruncated)
                XCTAssertLessThanOrEqual(o.stdout.utf8.count, 64 << 10)
                XCTAssertLessThanOrEqual(o.stderr.utf8.count, 64 << 10)
                XCTAssertLessThan(o.wallMs, Double(5_000 * testTimeScale))
            }
        }
    }

    // Row 6: a child keeps stdout open after the grader exits → the run returns promptly.
    func testLingeringChildDoesNotHoldTheRun() throws {
        try withSandbox { sandbox in
            let o = sandbox.run(["/bin/sh", "-c", "sleep 30 & echo parent-done"])
            XCTAssertEqual(o.status, .ok, "\(o)")
            XCTAssertEqual(o.stdout, "parent-done\n")
            XCTAssertLessThan(o.wallMs, 3_000)
        }
    }

    // Row 7: a double-forked daemon (setsid) dies with the invocation.
    func testDaemonDiesWithTheInvocation() throws {
        try withSandbox { sandbox in
            let o = sandbox.run(py("""
            import os, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(60); os._exit(0)
                os._exit(0)
            print("launched")
            """))
            XCTAssertEqual(o.status, .ok, "\(o)")
            XCTAssertLessThan(o.wallMs, 3_000)
        }
    }
}
