import Foundation

/// One conversation read from a chat JSONL file.
public struct ChatRecord: Equatable, Sendable {
    public var messages: [ChatMessage]
    /// 1-based line number in the source file.
    public var line: Int
}

/// A line of a chat JSONL file that could not be used.
public struct ChatDatasetIssue: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { "\(file):\(line): \(message)" }
}

/// Reads supervised chat data: one JSON object per line, in either
/// - OpenAI chat format: `{"messages": [{"role": "user", "content": "..."}, ...]}`, where
///   `content` is a string or a list of `{"type": "text", "text": "..."}` parts; or
/// - Bedrock conversation format: `{"system": [{"text": "..."}], "messages":
///   [{"role": "user", "content": [{"text": "..."}]}, ...]}`.
///
/// Each record needs at least one assistant message to train on (an assistant message with
/// OpenAI's `"weight": 0` is kept as context only). Blank lines and a UTF-8 byte-order mark
/// are skipped. Bad lines
/// do not stop the load: they are returned as issues naming `file:line`.
public enum ChatDataset {
    public static func load(_ url: URL) throws -> (records: [ChatRecord], issues: [ChatDatasetIssue]) {
        let data = try ModelIOError.read(url)
        var text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        return parse(text, file: url.path)
    }

    /// Parses JSONL text; `file` names the source in issues.
    public static func parse(_ text: String, file: String) -> (records: [ChatRecord], issues: [ChatDatasetIssue]) {
        var records: [ChatRecord] = [], issues: [ChatDatasetIssue] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0.isWhitespace }) { continue }
            do {
                records.append(ChatRecord(messages: try messages(fromJSONLine: line), line: lineNumber))
            } catch let e as RecordError {
                issues.append(ChatDatasetIssue(file: file, line: lineNumber, message: e.message))
            } catch {
                issues.append(ChatDatasetIssue(file: file, line: lineNumber, message: "\(error)"))
            }
        }
        return (records, issues)
    }

    struct RecordError: Error { var message: String }

    /// The messages of one JSONL record (system messages first, as given).
    static func messages(fromJSONLine line: Substring) throws -> [ChatMessage] {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw RecordError(message: "not a JSON object")
        }
        guard let raw = obj["messages"] as? [Any] else { throw RecordError(message: "missing 'messages' array") }
        var out: [ChatMessage] = []
        if let system = obj["system"] {
            out.append(ChatMessage(role: "system", content: try text(system, field: "system")))
        }
        for (i, any) in raw.enumerated() {
            guard let m = any as? [String: Any] else { throw RecordError(message: "messages[\(i)] is not an object") }
            guard let role = m["role"] as? String else { throw RecordError(message: "messages[\(i)].role is missing") }
            guard ["system", "developer", "user", "assistant"].contains(role) else {
                throw RecordError(message: "messages[\(i)].role '\(role)' is not system, user or assistant")
            }
            guard let content = m["content"] else { throw RecordError(message: "messages[\(i)].content is missing") }
            var weight: Int?
            if let w = m["weight"] {
                guard let n = w as? NSNumber, n.intValue == 0 || n.intValue == 1, n.doubleValue == Double(n.intValue) else {
                    throw RecordError(message: "messages[\(i)].weight must be 0 or 1")
                }
                weight = n.intValue
            }
            out.append(ChatMessage(role: role, content: try text(content, field: "messages[\(i)].content"), weight: weight))
        }
        guard out.contains(where: \.isTrained) else {
            throw RecordError(message: "no assistant message to train on")
        }
        return out
    }

    /// A string, or a list of text parts (`{"text": ...}` or `{"type": "text", "text": ...}`) joined.
    private static func text(_ any: Any, field: String) throws -> String {
        if let s = any as? String { return s }
        guard let parts = any as? [Any] else { throw RecordError(message: "\(field) is neither a string nor a list of text parts") }
        var out = ""
        for (j, p) in parts.enumerated() {
            guard let part = p as? [String: Any], let t = part["text"] as? String else {
                throw RecordError(message: "\(field)[\(j)] is not a text part ({\"text\": \"...\"})")
            }
            if let type = part["type"] as? String, type != "text" {
                throw RecordError(message: "\(field)[\(j)] has type '\(type)'; only text is supported")
            }
            out += t
        }
        return out
    }
}
