import XCTest
import Foundation

/// Every built-in template's cases.jsonl passes under `rft grader test`, in the sandbox.
final class TemplateCasesTests: XCTestCase {
    private var templates: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("templates")
    }

    private func assertCasesPass(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try RFTBinary.run(["grader", "test", templates.appendingPathComponent(name).path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr, file: file, line: line)
        XCTAssertTrue(r.stdout.contains("\(name): "), r.stdout, file: file, line: line)
    }

    func testMathCasesPass() throws { try assertCasesPass("math") }
    func testFormatCasesPass() throws { try assertCasesPass("format") }
    func testGenericCasesPass() throws { try assertCasesPass("generic") }
    func testCodeExecutionCasesPassIncludingHostilePrograms() throws { try assertCasesPass("code-execution") }

    /// The judge's cases run against the bundled OpenAI-compatible fake judge on 127.0.0.1.
    func testJudgeCasesPassAgainstALocalOpenAICompatibleServer() throws {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = [templates.appendingPathComponent("judge/tools/fake_judge_server.py").path, "--port", "0"]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        // First line: "fake judge listening on http://127.0.0.1:PORT/v1"
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        let firstLine = String(decoding: buffer, as: UTF8.self)
        guard let range = firstLine.range(of: "http://127.0.0.1:[0-9]+/v1", options: .regularExpression) else {
            return XCTFail("fake judge did not start: \(firstLine)")
        }
        setenv("JUDGE_BASE_URL", String(firstLine[range]), 1)
        setenv("JUDGE_MODEL", "fake-judge", 1)
        defer { unsetenv("JUDGE_BASE_URL"); unsetenv("JUDGE_MODEL") }
        try assertCasesPass("judge")
    }
}
