import XCTest
@testable import Sandbox

final class BasicRunTests: XCTestCase {
    func testEchoIsOk() throws {
        let sandbox = try Sandbox(policy: .grader)
        let o = sandbox.run(["/bin/echo", "hello"])
        XCTAssertEqual(o.status, .ok, "\(o)")
        XCTAssertEqual(o.stdout, "hello\n")
        XCTAssertEqual(o.exitCode, 0)
    }

    func testStdinReachesTheChild() throws {
        let sandbox = try Sandbox(policy: .grader)
        let o = sandbox.run(["/bin/cat"], stdin: Array("piped input".utf8))
        XCTAssertEqual(o.status, .ok, "\(o)")
        XCTAssertEqual(o.stdout, "piped input")
    }

    func testNonzeroExit() throws {
        let o = try Sandbox(policy: .grader).run(["/bin/sh", "-c", "exit 3"])
        XCTAssertEqual(o.status, .nonzero_exit)
        XCTAssertEqual(o.exitCode, 3)
    }
}
