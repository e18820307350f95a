import Foundation
import GraderRuntime
import JSON
import TransformerModel

/// One training prompt in Bedrock RFT format:
/// `{"messages": [{"role": "system"|"user", "content": "..."}], "reference_answer": ..., ...}`.
public struct PromptRecord: Equatable, Sendable {
    /// The record's `id`, or `line-N` when it has none.
    public var id: String
    public var messages: [ChatMessage]
    /// `reference_answer` at the top level or under `metadata`.
    public var referenceAnswer: JSONValue?
    /// The whole record as written, passed to graders unchanged.
    public var raw: JSONObject
    /// 1-based line in its file.
    public var line: Int

    public init(id: String, messages: [ChatMessage], referenceAnswer: JSONValue?, raw: JSONObject = [:], line: Int = 0) {
        self.id = id; self.messages = messages; self.referenceAnswer = referenceAnswer; self.raw = raw; self.line = line
    }
}

/// A problem in a dataset, at `file:line`, naming the field.
public struct DataIssue: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Severity: String, Sendable { case error, warning }
    public var file: String
    public var line: Int?
    public var field: String?
    public var message: String
    public var severity: Severity

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": \(severity.rawValue): "
        if let field { s += "\(field): " }
        return s + message
    }
}

/// Everything `rft data validate` found.
public struct DataReport: Sendable {
    public var records: [PromptRecord]
    public var issues: [DataIssue]
    public var errors: [DataIssue] { issues.filter { $0.severity == .error } }
    public var warnings: [DataIssue] { issues.filter { $0.severity == .warning } }
}

/// Reading and checking Bedrock-format prompt datasets.
public enum PromptDataset {
    /// Bedrock accepts 100 to 20,000 prompts.
    public static let recommendedRange = 100...20_000
    static let roles: Set<String> = ["system", "user", "assistant"]

    /// Loads every record; throws the first error (with file and line).
    public static func load(_ path: String) throws -> [PromptRecord] {
        let report = try validate(path)
        if let first = report.errors.first { throw first }
        return report.records
    }

    /// Checks every line; collects all errors and warnings instead of stopping at the first.
    public static func validate(_ path: String, checkSize: Bool = true) throws -> DataReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataIssue(file: path, line: nil, field: nil, message: "no such file", severity: .error)
        }
        var records: [PromptRecord] = [], issues: [DataIssue] = []
        var seenIDs: [String: Int] = [:]
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for (i, rawLine) in lines.enumerated() {
            let n = i + 1
            let text = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            func error(_ field: String?, _ message: String) {
                issues.append(DataIssue(file: path, line: n, field: field, message: message, severity: .error))
            }
            let json: JSONValue
            do { json = try JSONValue.parse(text) } catch let e as JSONParseError {
                // The column within the line as written (leading blanks included).
                let lead = rawLine.prefix { $0 == " " || $0 == "\t" }.count
                error(nil, "not valid JSON at column \(e.column + lead): \(e.message)"); continue
            } catch let other { error(nil, "not valid JSON: \(other)"); continue }
            guard case .object(let o) = json else { error(nil, "each line must be a JSON object, got \(json.typeName)"); continue }
            guard let msgs = o["messages"] else { error("messages", "missing; expected a list of {\"role\", \"content\"}"); continue }
            guard case .array(let items) = msgs, !items.isEmpty else { error("messages", "must be a non-empty list"); continue }
            var messages: [ChatMessage] = []
            var bad = false
            for (j, m) in items.enumerated() {
                let field = "messages[\(j)]"
                guard case .object(let mo) = m else { error(field, "must be an object"); bad = true; break }
                guard let roleValue = mo["role"], !roleValue.isNull else { error(field + ".role", "missing; must be \"system\", \"user\" or \"assistant\""); bad = true; break }
                guard let role = roleValue.stringValue else { error(field + ".role", "must be a string, got \(roleValue.typeName)"); bad = true; break }
                guard roles.contains(role) else {
                    error(field + ".role", "'\(role)' is not one of system, user, assistant"); bad = true; break
                }
                guard let content = contentText(mo["content"]) else {
                    let got = mo["content"].flatMap { $0.isNull ? nil : $0.typeName }
                    error(field + ".content", (got.map { "must be a string (or a list of {\"type\": \"text\", \"text\"}), got \($0)" }
                                               ?? "missing; must be a string (or a list of {\"type\": \"text\", \"text\"})"))
                    bad = true; break
                }
                messages.append(ChatMessage(role: role, content: content))
            }
            if bad { continue }
            if messages.last?.role != "user" {
                error("messages[\(messages.count - 1)].role", "the last message must be from the user: the trainer generates the assistant turn")
                continue
            }
            var id = "line-\(n)"
            if let raw = o["id"] {
                if let s = raw.stringValue { id = s }
                else if let d = raw.doubleValue { id = fmt(d) }
                else { error("id", "must be a string or a number"); continue }
                if let first = seenIDs[id] { error("id", "duplicate id '\(id)' (first on line \(first))"); continue }
                seenIDs[id] = n
            }
            let reference = o["reference_answer"] ?? o["metadata"]?["reference_answer"]
            if reference == nil {
                issues.append(DataIssue(file: path, line: n, field: "reference_answer",
                                        message: "missing (top level or under metadata); graders that check answers will need one",
                                        severity: .warning))
            }
            records.append(PromptRecord(id: id, messages: messages, referenceAnswer: reference, raw: o, line: n))
        }
        if checkSize, !records.isEmpty || issues.isEmpty {
            if records.count < recommendedRange.lowerBound {
                issues.append(DataIssue(file: path, line: nil, field: nil,
                                        message: "\(records.count) prompt\(records.count == 1 ? "" : "s"); Bedrock accepts 100 to 20,000 (start small: 100-200 prompts is a good first run)",
                                        severity: .warning))
            } else if records.count > recommendedRange.upperBound {
                issues.append(DataIssue(file: path, line: nil, field: nil,
                                        message: "\(records.count) prompts; Bedrock accepts at most 20,000 (start with a 100-200 prompt subset)",
                                        severity: .warning))
            }
        }
        return DataReport(records: records, issues: issues)
    }

    /// A message's text: a string, or the concatenated `text` parts of a content list.
    static func contentText(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        if let s = value.stringValue { return s }
        if case .array(let parts) = value {
            var out = ""
            for p in parts {
                if let s = p.stringValue { out += s }
                else if let t = p["text"]?.stringValue { out += t }
                else { return nil }
            }
            return out
        }
        return nil
    }
}

extension PromptRecord {
    /// The grader sample for a completion: this record with the generated assistant turn
    /// appended to `messages` and `id` set (Bedrock's reward Lambda contract).
    public func graderSample(id sampleID: String, completion: String) -> JSONValue {
        var o = raw
        var msgs = messages.map { JSONValue.object(["role": .string($0.role), "content": .string($0.content)]) }
        msgs.append(["role": "assistant", "content": .string(completion)])
        o["messages"] = .array(msgs)
        o["id"] = .string(sampleID)
        if let referenceAnswer, o["reference_answer"] == nil, o["metadata"]?["reference_answer"] == nil {
            o["reference_answer"] = referenceAnswer
        }
        return .object(o)
    }

    /// The prompt's last user message (used for display).
    public var lastUserText: String { messages.last(where: { $0.role == "user" })?.content ?? "" }
}
