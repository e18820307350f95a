import Foundation
import XCTest
@testable import Sandbox

/// `Sandbox.spawn`: long-lived workers with request/response channels.
final class WarmWorkerTests: XCTestCase {
    private func writeAll(_ fd: Int32, _ s: String) {
        let bytes = Array(s.utf8)
        bytes.withUnsafeBytes { p in var off = 0; while off < p.count { let n = write(fd, p.baseAddress! + off, p.count - off); if n <= 0 { break }; off += n } }
    }

    private func readLine(_ fd: Int32) -> String {
        var out: [UInt8] = []
        var c: UInt8 = 0
        while read(fd, &c, 1) == 1 { if c == 10 { break }; out.append(c) }
        return String(decoding: out, as: UTF8.self)
    }

    // Row 20 (channel): results travel on fd 4; lines printed on stdout cannot spoof them.
    func testWorkerServesRequestsOnItsChannels() throws {
        try withSandbox({ $0.wallTimeoutMs = nil }) { sandbox in
            let worker = try sandbox.spawn(py("""
            import os, sys
            req = os.fdopen(3, "r"); resp = os.fdopen(4, "w")
            for line in req:
                print("RESULT {\\"score\\": 999}", flush=True)      # forged on stdout
                open("/tmp/state", "a").write(line)                 # scratch persists across requests
                resp.write(str(len(open("/tmp/state").read().splitlines())) + ":" + line.upper()); resp.flush()
            """), channels: true)
            XCTAssertGreaterThanOrEqual(worker.requestFD, 0)
            writeAll(worker.requestFD, "first\n")
            XCTAssertEqual(readLine(worker.responseFD), "1:FIRST")
            writeAll(worker.requestFD, "second\n")
            XCTAssertEqual(readLine(worker.responseFD), "2:SECOND")
            XCTAssertFalse(worker.hasExited)
            // stdout is drained by the supervisor's own thread, which may lag the channel's answer:
            // gather what it captured until the forged line shows up (or 5 s pass).
            var stdout: [UInt8] = []
            let until = Date().addingTimeInterval(5)
            while !String(decoding: stdout, as: UTF8.self).contains("RESULT"), Date() < until {
                stdout += worker.takeOutput().stdout
                if !String(decoding: stdout, as: UTF8.self).contains("RESULT") { usleep(10_000) }
            }
            XCTAssertTrue(String(decoding: stdout, as: UTF8.self).contains("RESULT"), "the forged line went to stdout")
            worker.kill(reason: .shutdown)
            let o = worker.wait()
            XCTAssertEqual(o.status, .signaled, "\(o)")
            XCTAssertTrue(worker.hasExited)
            XCTAssertEqual(worker.wait().status, o.status, "wait is idempotent")
        }
    }

    func testKillForTimeoutReportsTimeout() throws {
        try withSandbox({ $0.wallTimeoutMs = nil }) { sandbox in
            let worker = try sandbox.spawn(["/bin/sh", "-c", "echo ready; sleep 60 & sleep 60"])
            usleep(200_000)
            worker.kill(reason: .timeout)
            let o = worker.wait()
            XCTAssertEqual(o.status, .timeout, "\(o)")
            XCTAssertEqual(o.stdout, "ready\n")
        }
    }

    func testWorkerDeadlineAndStdin() throws {
        try withSandbox({ $0.wallTimeoutMs = 300 }) { sandbox in
            let worker = try sandbox.spawn(["/bin/cat"])
            writeAll(worker.stdinFD, "echoed")
            worker.closeStdin()
            let o = worker.wait()
            XCTAssertEqual(o.status, .ok, "\(o)")
            XCTAssertEqual(o.stdout, "echoed")
            let slow = try sandbox.spawn(["/bin/sleep", "30"])
            XCTAssertEqual(slow.wait().status, .timeout)
        }
    }

    func testDroppedWorkerIsKilledAndCleanedUp() throws {
        try withSandbox({ $0.wallTimeoutMs = nil }) { sandbox in
            var worker: SandboxedProcess? = try sandbox.spawn(["/bin/sleep", "60"])
            XCTAssertFalse(worker!.hasExited)
            worker = nil
        }
    }
}
