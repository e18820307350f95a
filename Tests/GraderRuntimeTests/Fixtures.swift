import Foundation
import XCTest
@testable import GraderRuntime
import JSON

/// Temporary grader directories for tests.
enum Fixture {
    /// The repository root (for the example graders).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func example(_ name: String) -> URL { root.appendingPathComponent("graders").appendingPathComponent(name) }

    /// All fixture directories of this test process live here and are removed when it exits.
    static let scratch: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("rft-tests-\(getpid())").path) }
        return dir
    }()

    /// A fresh directory holding `grader.json` and the given files.
    static func grader(_ manifest: String, files: [String: String] = [:]) throws -> URL {
        let dir = scratch.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try scaledDeadlines(manifest).write(to: dir.appendingPathComponent("grader.json"), atomically: true, encoding: .utf8)
        for (name, text) in files {
            let url = dir.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            let mode = text.hasPrefix("#!") ? 0o755 : 0o644
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        }
        // The sandbox may run graders as an unprivileged user: make the directory readable to it.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir.appendingPathComponent("grader.json").path)
        return dir
    }

    /// Under emulation (`RFT_TEST_TIME_SCALE`, set by the cgroup v2 guest) a manifest that leaves
    /// the deadlines at Lambda's defaults gets them stretched, so slow start-up is not a timeout.
    /// Deadlines a test sets itself (it tests timeouts) are kept.
    static func scaledDeadlines(_ manifest: String) -> String {
        let scale = Int(ProcessInfo.processInfo.environment["RFT_TEST_TIME_SCALE"] ?? "") ?? 1
        guard scale > 1, var obj = (try? JSONSerialization.jsonObject(with: Data(manifest.utf8))) as? [String: Any] else { return manifest }
        if obj["timeout_ms"] == nil { obj["timeout_ms"] = 3000 * scale }
        if obj["init_timeout_ms"] == nil { obj["init_timeout_ms"] = 10_000 * scale }
        guard let data = try? JSONSerialization.data(withJSONObject: obj) else { return manifest }
        return String(decoding: data, as: UTF8.self)
    }

    /// A python grader `handler.<fn>` (lambda_handler for bedrock, fn otherwise) whose module is `code`.
    static func python(_ code: String, manifest extra: String = "", contract: String = "bedrock") throws -> URL {
        try grader("""
            {"name": "t", "runtime": "python", "handler": "handler.\(contract == "bedrock" ? "lambda_handler" : "fn")",
             "contract": "\(contract)"\(extra.isEmpty ? "" : ", " + extra)}
            """, files: ["handler.py": code])
    }

    static func sample(_ id: String, _ reply: String, reference: JSONValue? = nil, extra: [String: JSONValue] = [:]) -> Sample {
        Sample(id: id, messages: [("user", "question \(id)"), ("assistant", reply)], referenceAnswer: reference, extra: extra)
    }

    static func samples(_ n: Int, prefix: String = "s") -> [Sample] {
        (0..<n).map { sample("\(prefix)\($0)", "answer \($0)") }
    }
}

/// Child processes of this test process (to check that nothing leaks).
func childProcesses() -> [Int32] {
    let me = getpid()
    var out: [Int32] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8) else { continue }
        // Fields after the command name (which may contain spaces) start after the last ')'.
        guard let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        if fields.count > 1, Int32(fields[1]) == me { out.append(pid) }
    }
    return out
}

/// Child processes started since `before` that are still there after up to `seconds` (the sandbox may
/// finish a helper of its own, such as preparing a network namespace, just after a pool shuts down).
func leftoverChildren(since before: Set<Int32>, within seconds: Double = 3) -> [String] {
    let deadline = Date().addingTimeInterval(seconds)
    var left = Set(childProcesses()).subtracting(before)
    while !left.isEmpty && Date() < deadline {
        usleep(50_000)
        left = Set(childProcesses()).subtracting(before)
    }
    return left.sorted().map { (try? String(contentsOfFile: "/proc/\($0)/stat", encoding: .utf8)) ?? "\($0)" }
}
