import XCTest
@testable import Sandbox

/// Threat rows 15, 18 and 19: the syscall filter, with violations named by the seccomp listener.
final class SyscallFilterTests: XCTestCase {
    private func libc(_ call: String) -> [String] {
        py("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nr = \(call)\nprint('returned', r, ctypes.get_errno(), flush=True)")
    }

    // Rows 15 and 18: forbidden calls stop the sandbox with syscall_violation naming the call.
    func testForbiddenCallsAreNamedViolations() throws {
        try withSandbox { sandbox in
            let cases: [(String, String)] = [
                ("libc.ptrace(16, os.getppid(), 0, 0)", "ptrace"),
                ("libc.process_vm_readv(1, 0, 0, 0, 0, 0)", "process_vm_readv"),
                ("libc.syscall(321, 0, 0, 0)", "bpf"),
                ("libc.syscall(298, 0, 0, -1, -1, 0)", "perf_event_open"),
                ("libc.syscall(323, 0)", "userfaultfd"),
                ("libc.syscall(250, 0, 0, 0)", "keyctl"),
                ("libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)", "mount"),
                ("libc.unshare(0x10000000)", "unshare"),
                ("libc.ioctl(0, 0x5412, ctypes.c_char_p(b'x'))", "ioctl"),
                ("libc.syscall(164, 0, 0)", "settimeofday"),
                ("libc.syscall(227, 0, 0)", "clock_settime"),
                ("libc.setns(0, 0)", "setns"),
                ("libc.syscall(175, 0, 0, 0)", "init_module"),
            ]
            for (call, name) in cases {
                let o = sandbox.run(libc(call))
                XCTAssertEqual(o.status, .syscall_violation, "\(call): \(o)")
                XCTAssertEqual(o.syscall, name, call)
                XCTAssertFalse(o.stdout.contains("returned 0"), "\(call) must not succeed: \(o.stdout)")
            }
        }
    }

    // Row 18: i386 (int 0x80) and x32 system calls are named with their ABI.
    func testForeignABIsAreNamedViolations() throws {
        try withSandbox { sandbox in
            for (abi, code) in [("i386", "b'\\xb8\\x14\\x00\\x00\\x00\\xcd\\x80\\xc3'"), ("x32", "b'\\xb8\\x27\\x00\\x00\\x40\\x0f\\x05\\xc3'")] {
                let o = sandbox.run(py("""
                import ctypes, mmap
                m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
                m.write(\(code))
                f = ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(m)))
                print("returned", f())
                """))
                XCTAssertEqual(o.status, .syscall_violation, "\(abi): \(o)")
                XCTAssertEqual(o.syscall, "\(abi):getpid")
            }
        }
    }

    // Row 18: io_uring and clone3 are ENOSYS (glibc falls back); new namespaces via clone are EPERM.
    func testQuietDenials() throws {
        try withSandbox { sandbox in
            let o = sandbox.run(py("""
            import ctypes, os, subprocess
            libc = ctypes.CDLL(None, use_errno=True)
            print(libc.syscall(425, 8, 0), ctypes.get_errno())   # io_uring_setup
            print(libc.syscall(435, 0, 0), ctypes.get_errno())   # clone3
            CLONE_NEWUSER = 0x10000000
            print(libc.syscall(56, CLONE_NEWUSER | 17, 0, 0, 0, 0), ctypes.get_errno())  # clone
            print(subprocess.run(["/bin/echo", "fork still works"], capture_output=True).stdout.decode().strip())
            """))
            XCTAssertEqual(o.status, .ok, "\(o)")
            XCTAssertEqual(o.stdout, "-1 38\n-1 38\n-1 1\nfork still works\n")
        }
    }

    // Row 15: kill(-1) reaches only the sandbox's own processes; the runtime survives.
    func testKillAllIsConfinedToTheSandbox() throws {
        try withSandbox { sandbox in
            let o = sandbox.run(["/bin/sh", "-c", "sleep 5 & kill -KILL -1; echo after"])
            XCTAssertTrue([.signaled, .ok].contains(o.status), "\(o)")
            XCTAssertEqual(sandbox.run(["/bin/echo", "runtime alive"]).stdout, "runtime alive\n")
        }
    }

    // Row 19: clock games are violations and do not move the (monotonic) deadline.
    func testClockGamesDoNotMoveTheDeadline() throws {
        try withSandbox({ $0.wallTimeoutMs = 500 }) { sandbox in
            let o = sandbox.run(py("import time\ntry:\n time.clock_settime(time.CLOCK_REALTIME, 0)\nexcept OSError: pass\ntime.sleep(10)"))
            XCTAssertEqual(o.status, .syscall_violation)
            XCTAssertEqual(o.syscall, "clock_settime")
            let slow = sandbox.run(["/bin/sleep", "10"])
            XCTAssertEqual(slow.status, .timeout)
            XCTAssertLessThan(slow.wallMs, Double(3_000 * testTimeScale))
        }
    }
}
