import Foundation
import JSON
import Sandbox

/// Every problem found in one manifest (validation does not stop at the first).
public struct ManifestErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [ManifestError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

extension GraderManifest {
    /// The manifest file name inside a grader directory.
    public static let fileName = "grader.json"

    /// Reads and validates `DIR/grader.json`.
    /// - Throws: ``ManifestErrors`` listing every problem, each naming its field path.
    public static func load(directory: URL) throws -> GraderManifest {
        let url = directory.appendingPathComponent(fileName)
        let shown = displayPath(url)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            var isDir: ObjCBool = false
            let why = FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir) && isDir.boolValue
                ? "no \(fileName) in this directory" : "grader directory does not exist"
            throw ManifestErrors(errors: [ManifestError(file: shown, field: "", message: why)])
        }
        return try decode(Array(data), file: shown, directory: directory)
    }

    /// Validates manifest bytes. `directory` is used to check that `command[0]` and the handler module exist.
    public static func decode(_ bytes: [UInt8], file: String, directory: URL? = nil) throws -> GraderManifest {
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch let e as JSONParseError {
            throw ManifestErrors(errors: [ManifestError(file: file, field: "", message: "invalid JSON at \(e)")])
        }
        var v = ManifestValidator(file: file)
        let m = v.validate(json, directory: directory)
        if let m, v.errors.isEmpty { return m }
        throw ManifestErrors(errors: v.errors)
    }

    static func displayPath(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        let p = url.standardizedFileURL.path
        return p.hasPrefix(cwd) ? String(p.dropFirst(cwd.count)) : p
    }
}

private struct ManifestValidator {
    let file: String
    var errors: [ManifestError] = []

    mutating func fail(_ field: String, _ message: String) {
        errors.append(ManifestError(file: file, field: field, message: message))
    }

    mutating func validate(_ json: JSONValue, directory: URL?) -> GraderManifest? {
        guard let obj = json.objectValue else { fail("", "must be a JSON object, got \(json.typeName)"); return nil }
        let known = Set(GraderManifest.CodingKeys.allCases.map(\.rawValue))
        for key in obj.keys.sorted() where !known.contains(key) {
            fail(key, "unknown field" + (didYouMean(key, known).map { " (did you mean '\($0)'?)" } ?? ""))
        }
        var m = GraderManifest(name: "")
        if let name = string(obj, "name") {
            if name.isEmpty || name.count > 64 || !name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
                fail("name", "must be 1-64 letters, digits, '-', '_' or '.', got \"\(name)\"")
            }
            m.name = name
        } else if obj["name"] == nil { fail("name", "is required") }
        m.runtime = enumValue(obj, "runtime") ?? m.runtime
        m.contract = enumValue(obj, "contract") ?? m.contract
        m.onError = enumValue(obj, "on_error") ?? m.onError
        m.handler = string(obj, "handler")
        m.timeoutMs = int(obj, "timeout_ms", 1...900_000) ?? m.timeoutMs
        m.initTimeoutMs = int(obj, "init_timeout_ms", 1...900_000) ?? m.initTimeoutMs
        m.memoryMB = int(obj, "memory_mb", 16...65_536) ?? m.memoryMB
        m.cpuMsPerSec = int(obj, "cpu_ms_per_sec", 1...SandboxPolicy.maxCpuMsPerSec)
        m.concurrency = int(obj, "concurrency", 1...64) ?? m.concurrency
        m.batchSize = int(obj, "batch_size", 1...10_000) ?? m.batchSize
        m.retries = int(obj, "retries", 0...5) ?? m.retries
        m.recycleAfter = int(obj, "recycle_after", 1...1_000_000) ?? m.recycleAfter
        m.queueLimit = int(obj, "queue_limit", 1...1_000_000) ?? m.queueLimit
        if let n = obj["network"] {
            if let b = n.boolValue { m.network = b } else { fail("network", "must be true or false, got \(n.typeName)") }
        }
        if let d = obj["allow_degraded"] {
            if let b = d.boolValue { m.allowDegraded = b } else { fail("allow_degraded", "must be true or false, got \(d.typeName)") }
        }
        if let env = obj["environment"] { m.environment = environment(env) }
        if let cmd = obj["command"] { m.command = command(cmd) }
        if let r = obj["score_range"] { m.scoreRange = scoreRange(r) }
        if let e = obj["exec"] { m.exec = ExecSettings.validate(e) { fail($0, $1) } }

        switch m.runtime {
        case .python:
            if obj["command"] != nil { fail("command", "is only used with \"runtime\": \"exec\"") }
            if let h = m.handler {
                let parts = h.split(separator: ".", omittingEmptySubsequences: false)
                if parts.count < 2 || parts.contains(where: { $0.isEmpty || !$0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }) {
                    fail("handler", "must be \"module.function\", got \"\(h)\"")
                } else if let directory {
                    let module = parts.dropLast().joined(separator: "/")
                    let fm = FileManager.default
                    let file = directory.appendingPathComponent(module + ".py").path
                    let pkg = directory.appendingPathComponent(module + "/__init__.py").path
                    if !fm.fileExists(atPath: file) && !fm.fileExists(atPath: pkg) {
                        let modules = ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? [])
                            .filter { $0.hasSuffix(".py") }.map { String($0.dropLast(3)) }
                        let hint = didYouMean(module, modules).map { " (did you mean '\($0).\(parts.last!)'?)" } ?? ""
                        fail("handler", "module file \(module).py not found in the grader directory\(hint)")
                    }
                }
            } else if obj["handler"] == nil {
                fail("handler", "is required when runtime is \"python\" (e.g. \"lambda_function.lambda_handler\")")
            }
        case .exec:
            if obj["handler"] != nil { fail("handler", "is only used with \"runtime\": \"python\"") }
            if m.contract != .bedrock { fail("contract", "exec graders speak the bedrock batch contract, got \"\(m.contract.rawValue)\"") }
            if let c = m.command, let prog = c.first, let directory, !prog.hasPrefix("/") {
                let path = directory.appendingPathComponent(prog).path
                if !FileManager.default.fileExists(atPath: path) {
                    fail("command[0]", "\(prog) not found in the grader directory (build it first?)")
                }
            } else if obj["command"] == nil {
                fail("command", "is required when runtime is \"exec\" (e.g. [\"./grade.sh\"])")
            }
        }
        return m
    }

    mutating func string(_ obj: JSONObject, _ key: String) -> String? {
        guard let v = obj[key] else { return nil }
        if let s = v.stringValue { return s }
        fail(key, "must be a string, got \(v.typeName)")
        return nil
    }

    mutating func enumValue<E: RawRepresentable & CaseIterable>(_ obj: JSONObject, _ key: String) -> E?
    where E.RawValue == String {
        guard let s = string(obj, key) else { return nil }
        if let e = E(rawValue: s) { return e }
        fail(key, "must be one of \(E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(s)\"")
        return nil
    }

    mutating func int(_ obj: JSONObject, _ key: String, _ range: ClosedRange<Int>) -> Int? {
        guard let v = obj[key] else { return nil }
        guard let d = v.doubleValue, d == d.rounded(), abs(d) < 1e15 else {
            fail(key, "must be an integer, got \(v.jsonString)")
            return nil
        }
        let i = Int(d)
        guard range.contains(i) else { fail(key, "must be \(range.lowerBound)...\(range.upperBound), got \(i)"); return nil }
        return i
    }

    mutating func environment(_ v: JSONValue) -> [String: String?] {
        var out: [String: String?] = [:]
        func checkName(_ n: String, _ path: String) -> Bool {
            let ok = !n.isEmpty && n.first.map { $0.isLetter || $0 == "_" } == true
                && n.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }
            if !ok { fail(path, "\"\(n)\" is not a valid environment variable name") }
            return ok
        }
        switch v {
        case .array(let items):
            // ["NAME", "NAME=value"]
            for (i, item) in items.enumerated() {
                guard let s = item.stringValue else { fail("environment[\(i)]", "must be a string, got \(item.typeName)"); continue }
                if let eq = s.firstIndex(of: "=") {
                    let name = String(s[..<eq])
                    if checkName(name, "environment[\(i)]") { out[name] = .some(String(s[s.index(after: eq)...])) }
                } else if checkName(s, "environment[\(i)]") {
                    out[s] = .some(nil)
                }
            }
        case .object(let o):
            // {"NAME": "value", "PASSED_THROUGH": null}
            for (k, val) in o where checkName(k, "environment.\(k)") {
                switch val {
                case .string(let s): out[k] = .some(s)
                case .null: out[k] = .some(nil)
                default: fail("environment.\(k)", "must be a string or null, got \(val.typeName)")
                }
            }
        default:
            fail("environment", "must be a list of names (\"NAME\" or \"NAME=value\") or an object, got \(v.typeName)")
        }
        return out
    }

    mutating func command(_ v: JSONValue) -> [String]? {
        switch v {
        case .string(let s):
            let argv = s.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if argv.isEmpty { fail("command", "must not be empty") }
            return argv.isEmpty ? nil : argv
        case .array(let items):
            var argv: [String] = []
            for (i, item) in items.enumerated() {
                if let s = item.stringValue { argv.append(s) } else { fail("command[\(i)]", "must be a string, got \(item.typeName)") }
            }
            if items.isEmpty { fail("command", "must not be empty") }
            return argv.isEmpty ? nil : argv
        default:
            fail("command", "must be a string or a list of strings, got \(v.typeName)")
            return nil
        }
    }

    mutating func scoreRange(_ v: JSONValue) -> [Double]? {
        guard let a = v.arrayValue, a.count == 2 else { fail("score_range", "must be [low, high], got \(v.jsonString)"); return nil }
        var r: [Double] = []
        for (i, x) in a.enumerated() {
            if let d = x.doubleValue { r.append(d) } else { fail("score_range[\(i)]", "must be a number, got \(x.typeName)") }
        }
        guard r.count == 2 else { return nil }
        if r[0] > r[1] { fail("score_range", "low \(r[0]) is above high \(r[1])"); return nil }
        return r
    }
}

/// The candidate closest to `word` when it is a plausible typo of it (at most 2 edits, and fewer
/// than half the word), for "did you mean" hints.
public func didYouMean<S: Sequence>(_ word: String, _ candidates: S) -> String? where S.Element == String {
    let best = candidates.min { (editDistance($0, word), $0) < (editDistance($1, word), $1) }
    guard let best, best != word else { return nil }
    let d = editDistance(best, word)
    return d <= 2 && d * 2 < max(word.count, 2) ? best : nil
}

/// Levenshtein distance, for "did you mean" hints.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var prev = Array(0...b.count)
    for i in 1...a.count {
        var cur = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[b.count]
}
