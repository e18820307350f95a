import Foundation

/// Turns Bedrock model invocation log records into Bedrock RFT prompts.
///
/// A record holds the request (`input.inputBodyJson`) and the model's answer
/// (`output.outputBodyJson`). The request's system prompt and messages become the prompt;
/// the answer becomes `reference_answer`. Converse, Anthropic Messages and OpenAI-style chat
/// bodies are understood, as are plain `prompt`/`inputText` bodies.
public enum InvocationLogs {
    public struct Conversion: Sendable {
        public var records: [JSON] = []
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
            var entries: [(Int?, JSON)] = []
            if let whole = try? JSON.parse(data) {
                if case .array(let a) = whole { entries = a.map { (nil, $0) } } else { entries = [(nil, whole)] }
            } else {
                for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let t = line.trimmingCharacters(in: .whitespaces)
                    if t.isEmpty { continue }
                    guard let j = try? JSON.parse(t) else {
                        throw DataIssue(file: path, line: i + 1, field: nil, message: "not valid JSON", severity: .error)
                    }
                    entries.append((i + 1, j))
                }
            }
            for (_, record) in entries {
                c.read += 1
                switch convert(record: record, filters: filters, requireOutput: requireOutput) {
                case .success(let prompt):
                    let key = prompt["messages"]!.serialized()
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

    static func convert(record: JSON, filters: [String: String], requireOutput: Bool) -> Result<JSON, Skip> {
        let meta = record["requestMetadata"]?.object ?? [:]
        for (k, v) in filters where meta[k]?.string != v { return .failure(Skip(text: "filtered out by requestMetadata")) }
        guard let body = record["input"]?["inputBodyJson"] else { return .failure(Skip(text: "no input.inputBodyJson")) }
        var messages: [JSON] = []
        if let system = systemText(body["system"]), !system.isEmpty {
            messages.append(["role": "system", "content": .string(system)])
        }
        if case .array(let ms) = body["messages"] {
            for m in ms {
                guard let role = m["role"]?.string, let text = PromptDataset.contentText(flatten(m["content"])) else {
                    return .failure(Skip(text: "message without role or text content"))
                }
                messages.append(["role": .string(role), "content": .string(text)])
            }
        } else if let p = body["prompt"]?.string ?? body["inputText"]?.string {
            messages.append(["role": "user", "content": .string(p)])
        } else {
            return .failure(Skip(text: "request has no messages or prompt"))
        }
        guard messages.last?["role"]?.string == "user" else { return .failure(Skip(text: "last request message is not from the user")) }
        let output = outputText(record["output"]?["outputBodyJson"])
        if requireOutput, output == nil { return .failure(Skip(text: "no model output")) }
        var prompt: [String: JSON] = ["messages": .array(messages)]
        if let id = record["requestId"]?.string { prompt["id"] = .string(id) }
        if let output { prompt["reference_answer"] = .string(output) }
        var metadata: [String: JSON] = [:]
        for key in ["modelId", "timestamp", "operation"] { if let v = record[key] { metadata[key] = v } }
        if !meta.isEmpty { metadata["requestMetadata"] = .object(meta) }
        if !metadata.isEmpty { prompt["metadata"] = .object(metadata) }
        return .success(.object(prompt))
    }

    /// Converse content lists hold `{"text": ...}` parts; Anthropic's hold `{"type": "text", "text": ...}`.
    static func flatten(_ content: JSON?) -> JSON? {
        guard case .array(let parts) = content else { return content }
        return .array(parts.filter { $0.string != nil || $0["text"] != nil })
    }

    static func systemText(_ v: JSON?) -> String? {
        guard let v else { return nil }
        if let s = v.string { return s }
        if case .array(let parts) = v { return parts.compactMap { $0["text"]?.string ?? $0.string }.joined(separator: "\n") }
        return nil
    }

    static func outputText(_ body: JSON?) -> String? {
        guard let body else { return nil }
        if let parts = body["output"]?["message"]?["content"]?.array {          // Converse
            return parts.compactMap { $0["text"]?.string }.joined()
        }
        if let parts = body["content"]?.array {                                   // Anthropic Messages
            return parts.compactMap { $0["text"]?.string }.joined()
        }
        if let choice = body["choices"]?.array?.first {                           // OpenAI chat
            return choice["message"]?["content"]?.string ?? choice["text"]?.string
        }
        if let r = body["results"]?.array?.first?["outputText"]?.string { return r }  // Titan
        return body["completion"]?.string ?? body["generation"]?.string ?? body["outputText"]?.string
    }
}
