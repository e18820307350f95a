import Foundation
import XCTest
@testable import Sandbox

/// Threat rows 22, 25 and 26: programs that cannot run, a sandbox that cannot be set up, and
/// output that is not well-formed text.
final class ExecAndSetupErrorTests: XCTestCase {
    // Row 22: missing program, missing interpreter, non-executable file, wrong architecture.
    func testUnrunnableProgramsAreExecErrors() throws {
        try withTempDir { dir in
            try "#!/nonexistent/python9\nprint(1)\n".write(toFile: dir + "/bad-shebang", atomically: true, encoding: .utf8)
            chmod(dir + "/bad-shebang", 0o755)
            try "echo hi\n".write(toFile: dir + "/not-executable", atomically: true, encoding: .utf8)
            chmod(dir + "/not-executable", 0o644)
            // An ELF header for AArch64 (e_machine 183).
            var elf = [UInt8](repeating: 0, count: 128)
            elf[0...3] = [0x7f, 0x45, 0x4c, 0x46]; elf[4] = 2; elf[5] = 1; elf[6] = 1; elf[16] = 2; elf[18] = 183
            FileManager.default.createFile(atPath: dir + "/arm64", contents: Data(elf))
            chmod(dir + "/arm64", 0o755)
            try withSandbox({ $0.readOnlyPaths = [dir] }) { sandbox in
                let cases: [([String], String)] = [
                    (["/nonexistent/program"], "no such file"),
                    (["no-such-command-anywhere"], "command not found"),
                    ([dir + "/bad-shebang"], "bad interpreter"),
                    ([dir + "/not-executable"], "permission denied"),
                    ([dir + "/arm64"], "not an executable for this machine"),
                    ([], "empty command"),
                ]
                for (argv, phrase) in cases {
                    let o = sandbox.run(argv)
                    XCTAssertEqual(o.status, .exec_error, "\(argv): \(o)")
                    XCTAssertTrue(o.message?.contains(phrase) == true, "\(argv): \(o.message ?? "")")
                }
                XCTAssertThrowsError(try sandbox.spawn(["/nonexistent/worker"])) { error in
                    XCTAssertEqual((error as? SandboxError)?.layer, "exec")
                }
            }
        }
    }

    // Row 25: a layer that cannot be set up is a sandbox_error naming the layer, never a verdict.
    func testLayerFailuresAreSandboxErrors() throws {
        try withSandbox { sandbox in
            var faults: [(SpawnTemplate.Fault, String)] = [(.filesystem, "filesystem")]
            if geteuid() == 0 { faults += [(.network, "network"), (.cgroup, "cgroup")] }
            for (fault, layer) in faults {
                sandbox.template.injectedFault = fault
                let o = sandbox.run(["/bin/echo", "must not run"])
                XCTAssertEqual(o.status, .sandbox_error, "\(fault): \(o)")
                XCTAssertEqual(o.layer, layer)
                XCTAssertEqual(o.stdout, "")
                XCTAssertNotNil(o.message)
            }
            sandbox.template.injectedFault = nil
            XCTAssertEqual(sandbox.run(["/bin/echo", "ok"]).status, .ok)
        }
        XCTAssertThrowsError(try Sandbox(policy: { var p = SandboxPolicy.grader; p.readOnlyPaths = ["/nonexistent/grader"]; return p }())) { error in
            XCTAssertEqual((error as? SandboxError)?.layer, "filesystem")
        }
    }

    // Row 26: invalid UTF-8, NUL bytes and a 100 MB line are captured safely (replacement
    // characters, kept NULs, the output cap); nothing crashes.
    func testMalformedOutputIsCapturedSafely() throws {
        try withSandbox({ $0.maxOutputBytes = 1 << 20 }) { sandbox in
            let o = sandbox.run(py("import sys; sys.stdout.buffer.write(b'ok\\xff\\xfe\\x00end')"))
            XCTAssertEqual(o.status, .ok)
            XCTAssertEqual(o.stdout, "ok\u{FFFD}\u{FFFD}\u{0}end")
            let line = sandbox.run(py("import sys; sys.stdout.buffer.write(b'x' * (100 << 20))"))
            XCTAssertEqual(line.status, .output_limit)
            XCTAssertEqual(line.stdout.utf8.count, 1 << 20)
            let deep = sandbox.run(py("print('[' * 10000 + ']' * 10000)"))
            XCTAssertEqual(deep.status, .ok)
            XCTAssertEqual(deep.stdout.count, 20001)
        }
    }
}
