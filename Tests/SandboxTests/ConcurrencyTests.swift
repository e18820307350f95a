import Foundation
import XCTest
@testable import Sandbox

/// Many misbehaving runs at once on one Sandbox: each gets its own limits and its own verdict.
final class ConcurrencyTests: XCTestCase {
    func testConcurrentMisbehaviourStaysPerRun() throws {
        try withSandbox({ $0.wallTimeoutMs = 1_500; $0.memoryMB = 64; $0.maxPids = 16; $0.maxOutputBytes = 16 << 10 }) { sandbox in
            var cases: [([String], Set<OutcomeStatus>)] = [
                (["/bin/echo", "fine"], [.ok]),
                (["/bin/sh", "-c", "exit 7"], [.nonzero_exit]),
                (["/bin/sleep", "30"], [.timeout]),
                (["/usr/bin/yes"], [.output_limit]),
                (py("import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0)"), [.syscall_violation]),
                // The bomb's own shell may fail to fork its final `sleep` (exit 2) or hang until the deadline;
                // or its shells' "Cannot fork" messages reach the 16 KiB stderr limit first (seen on a quiet host).
                (["/bin/sh", "-c", "f(){ f|f& }; f; sleep 30"], [.timeout, .nonzero_exit, .output_limit]),
            ]
            if CgroupSupport.shared.mounts["memory"] != nil {
                cases.append((py("x = bytearray(256 << 20)"), [.memory_limit]))
            }
            let all = Array(repeating: cases, count: 2).flatMap { $0 }
            var results = [Outcome?](repeating: nil, count: all.count)
            let lock = NSLock()
            DispatchQueue.concurrentPerform(iterations: all.count) { i in
                let o = sandbox.run(all[i].0)
                lock.lock(); results[i] = o; lock.unlock()
            }
            for (i, (argv, expected)) in all.enumerated() {
                XCTAssertTrue(results[i].map { expected.contains($0.status) } ?? false, "\(argv): \(String(describing: results[i]))")
            }
            XCTAssertEqual(sandbox.run(["/bin/echo", "after"]).stdout, "after\n")
        }
    }
}
