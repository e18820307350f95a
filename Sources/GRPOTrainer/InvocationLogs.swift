import Foundation
import GraderRuntime
import JSON

/// Turns Bedrock model invocation log records into Bedrock RFT prompts.
///
/// A record holds the request (`input.inputBodyJson`) and the model's answer
/// (`output.outputBodyJson`). The request's system prompt and messages become the prompt;
/// the answer becomes `reference_answer`. Converse, Anthropic Messages and OpenAI-style chat
/// bodies are understood, as are plain `prompt`/`inputText` bodies.
public enum InvocationLogs {
    public struct Conversion: Sendable {
        public var records: [JSONValue] = []
        /// Why records were skipped, with counts.
        public var skipped: [String: Int] = [:]
        public var read = 0
    }

    /// Converts every record in `paths` (JSONL, a JSON array, or one JSON object per file).
    /// `filters` keep only records whose `requestMetadata[key] == value`.
    public static func convert(paths: [String], filters: [String: String] = [:],
                               requireOutput: Bool = false) throws -> Conversion {
        var c = Conversion()
        var seen = Set<String>()
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DataIssue(file: path, line: nil, field: nil, message: "no such file", severity: .error)
            }
            var entries: [(Int?, JSONValue)] = []
            if let whole = try? JSONValue.parse(data) {
                if case .array(let a) = whole { entries = a.map { (nil, $0) } } else { entries = [(nil, whole)] }
            } else {
                for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let t = line.trimmingCharacters(in: .whitespaces)
                    if t.isEmpty { continue }
                    guard let j = try? JSONValue.parse(t) else {
                        throw DataIssue(file: path, line: i + 1, field: nil, message: "not valid JSON", severity: .error)
                    }
                    entries.append((i + 1, j))
                }
            }
            for (_, record) in entries {
                c.read += 1
                switch convert(record: record, filters: filters, requireOutput: requireOutput) {
                case .success(let prompt):
                    let key = prompt["messages"]!.jsonString(sortedKeys: true)
                    if seen.contains(key) { c.skipped["duplicate prompt", default: 0] += 1; continue }
                    seen.insert(key)
                    c.records.append(prompt)
                case .failure(let reason): c.skipped[reason.text, default: 0] += 1
                }
            }
        }
        return c
    }

    struct Skip: Error { var text: String }

    static func convert(record: JSONValue, filters: [String: String], requireOutput: Bool) -> Result<JSONValue, Skip> {
        let meta = record["requestMetadata"]?.objectValue ?? [:]
        for (k, v) in filters where meta[k]?.stringValue != v { return .failure(Skip(text: "filtered out by requestMetadata")) }
        guard let body = record["input"]?["inputBodyJson"] else { return .failure(Skip(text: "no input.inputBodyJson")) }
        var messages: [JSONValue] = []
        if let system = systemText(body["system"]), !system.isEmpty {
            messages.append(["role": "system", "content": .string(system)])
        }
        if case .array(let ms) = body["messages"] {
            for m in ms {
                guard let role = m["role"]?.stringValue, let text = PromptDataset.contentText(flatten(m["content"])) else {
                    return .failure(Skip(text: "message without role or text content"))
                }
                messages.append(["role": .string(role), "content": .string(text)])
            }
        } else if let p = body["prompt"]?.stringValue ?? body["inputText"]?.stringValue {
            messages.append(["role": "user", "content": .string(p)])
        } else {
            return .failure(Skip(text: "request has no messages or prompt"))
        }
        guard messages.last?["role"]?.stringValue == "user" else { return .failure(Skip(text: "last request message is not from the user")) }
        let output = outputText(record["output"]?["outputBodyJson"])
        if requireOutput, output == nil { return .failure(Skip(text: "no model output")) }
        var prompt: JSONObject = ["messages": .array(messages)]
        if let id = record["requestId"]?.stringValue { prompt["id"] = .string(id) }
        if let output { prompt["reference_answer"] = .string(output) }
        var metadata: JSONObject = [:]
        for key in ["modelId", "timestamp", "operation"] { if let v = record[key] { metadata[key] = v } }
        if !meta.isEmpty { metadata["requestMetadata"] = .object(meta) }
        if !metadata.isEmpty { prompt["metadata"] = .object(metadata) }
        return .success(.object(prompt))
    }

    /// Converse content lists hold `{"text": ...}` parts; Anthropic's hold `{"type": "text", "text": ...}`.
    static func flatten(_ content: JSONValue?) -> JSONValue? {
        guard case .array(let parts) = content else { return content }
        return .array(parts.filter { $0.stringValue != nil || $0["text"] != nil })
    }

    static func systemText(_ v: JSONValue?) -> String? {
        guard let v else { return nil }
        if let s = v.stringValue { return s }
        if case .array(let parts) = v { return parts.compactMap { $0["text"]?.stringValue ?? $0.stringValue }.joined(separator: "\n") }
        return nil
    }

    static func outputText(_ body: JSONValue?) -> String? {
        guard let body else { return nil }
        if let parts = body["output"]?["message"]?["content"]?.arrayValue {          // Converse
            return parts.compactMap { $0["text"]?.stringValue }.joined()
        }
        if let parts = body["content"]?.arrayValue {                                   // Anthropic Messages
            return parts.compactMap { $0["text"]?.stringValue }.joined()
        }
        if let choice = body["choices"]?.arrayValue?.first {                           // OpenAI chat
            return choice["message"]?["content"]?.stringValue ?? choice["text"]?.stringValue
        }
        if let r = body["results"]?.arrayValue?.first?["outputText"]?.stringValue { return r }  // Titan
        return body["completion"]?.stringValue ?? body["generation"]?.stringValue ?? body["outputText"]?.stringValue
    }
}
