import XCTest
@testable import Sandbox

/// Threat row 21: every way of ending gets its own typed status, never guessed from the exit code.
final class OutcomeTypingTests: XCTestCase {
    func testEachEndingHasItsOwnStatus() throws {
        try withSandbox({ $0.wallTimeoutMs = 1_000; $0.maxFileSizeMB = 1; $0.memoryMB = 64 }) { sandbox in
            let ok = sandbox.run(["/bin/echo", "hi"])
            XCTAssertEqual(ok.status, .ok)
            XCTAssertEqual(ok.exitCode, 0)

            let e137 = sandbox.run(["/bin/sh", "-c", "exit 137"])
            XCTAssertEqual(e137.status, .nonzero_exit)
            XCTAssertEqual(e137.exitCode, 137)
            XCTAssertNil(e137.signal)

            for (sig, name) in [("SEGV", "SIGSEGV"), ("ABRT", "SIGABRT"), ("FPE", "SIGFPE"), ("SYS", "SIGSYS"), ("KILL", "SIGKILL")] {
                let o = sandbox.run(["/bin/sh", "-c", "kill -\(sig) $$"])
                XCTAssertEqual(o.status, .signaled, "\(sig): \(o)")
                XCTAssertEqual(o.signal, name)
                XCTAssertNil(o.syscall, "a self-sent SIGSYS is not a seccomp violation")
            }
            let fsize = sandbox.run(["/bin/sh", "-c", "exec head -c 8M /dev/zero > /tmp/big"])
            XCTAssertEqual(fsize.status, .signaled, "\(fsize)")
            XCTAssertEqual(fsize.signal, "SIGXFSZ")

            let segv = sandbox.run(py("import ctypes; ctypes.string_at(0)"))
            XCTAssertEqual(segv.status, .signaled)
            XCTAssertEqual(segv.signal, "SIGSEGV")

            let timeout = sandbox.run(["/bin/sleep", "10"])
            XCTAssertEqual(timeout.status, .timeout)

            if CgroupSupport.shared.mounts["memory"] != nil {
                let oom = sandbox.run(py("x = bytearray(256 << 20)"))
                XCTAssertEqual(oom.status, .memory_limit)
                XCTAssertEqual(oom.signal, "SIGKILL", "the kernel's SIGKILL, typed by the OOM counter")
            }
        }
    }

    func testOutcomeJSONUsesTheStatusNames() throws {
        let o = Outcome(status: .syscall_violation, syscall: "ptrace", wallMs: 1, cpuMs: 0)
        let json = String(decoding: try JSONEncoder().encode(o), as: UTF8.self)
        XCTAssertTrue(json.contains("\"status\":\"syscall_violation\""), json)
        XCTAssertTrue(json.contains("\"syscall\":\"ptrace\""), json)
    }
}
