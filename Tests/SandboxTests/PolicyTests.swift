import Foundation
import XCTest
@testable import Sandbox

final class PolicyTests: XCTestCase {
    func testMissingKeysTakeTheGraderDefaults() throws {
        let p = try JSONDecoder().decode(SandboxPolicy.self, from: Data(#"{"memoryMB": 128, "network": "host", "cpuTimeMs": null}"#.utf8))
        XCTAssertEqual(p.memoryMB, 128)
        XCTAssertEqual(p.network, .host)
        XCTAssertNil(p.cpuTimeMs)
        XCTAssertEqual(p.wallTimeoutMs, SandboxPolicy.grader.wallTimeoutMs)
        XCTAssertEqual(p.environment["PATH"], "/usr/local/bin:/usr/bin:/bin")
    }

    func testUntrustedCodeIsStricterThanGrader() {
        let g = SandboxPolicy.grader, u = SandboxPolicy.untrustedCode
        XCTAssertLessThan(u.memoryMB!, g.memoryMB!)
        XCTAssertLessThan(u.maxPids!, g.maxPids!)
        XCTAssertLessThan(u.maxOutputBytes, g.maxOutputBytes)
        XCTAssertLessThan(u.wallTimeoutMs!, g.wallTimeoutMs!)
        XCTAssertEqual(u.network, .none)
    }

    func testValidationNamesTheField() {
        var p = SandboxPolicy.grader
        p.memoryMB = 0
        XCTAssertThrowsError(try p.validate()) { XCTAssertTrue("\($0)".contains("memoryMB")) }
        p = .grader
        p.readOnlyPaths = ["relative/path"]
        XCTAssertThrowsError(try p.validate()) { XCTAssertTrue("\($0)".contains("readOnlyPaths[0]")) }
        p.readOnlyPaths = ["/proc/self"]
        XCTAssertThrowsError(try p.validate())
        XCTAssertThrowsError(try Sandbox(policy: p)) { XCTAssertEqual(($0 as? SandboxError)?.layer, "policy") }
    }
}
