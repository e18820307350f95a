import Foundation
import JSON

/// One sample to grade, in Bedrock's batch format: the training record with the generated assistant
/// turn appended to `messages`, and a unique `id`.
///
/// The record is kept as written (extra columns travel to the grader unchanged). `reference_answer`
/// may sit at the top level or under `metadata`; ``referenceAnswer`` finds either.
public struct Sample: Sendable, Equatable {
    /// The sample's id; unique within one `score` call.
    public var id: String
    /// The whole record, including `id`.
    public var record: JSONObject {
        get { storedRecord ?? ((try? JSONValue.parse(encoded))?.objectValue ?? JSONObject()) }
        set {
            storedRecord = newValue
            encoded = JSONValue.object(newValue).jsonBytes()
        }
    }
    /// The record as a tree; nil for a sample made by ``scanList(_:)`` until `record` is set.
    private var storedRecord: JSONObject?
    /// The record as compact JSON, encoded once when the sample is made (it is what travels to graders,
    /// possibly several times: retries, several graders in a reward spec).
    public private(set) var encoded: [UInt8]

    public static func == (a: Sample, b: Sample) -> Bool {
        a.id == b.id && a.encoded == b.encoded && a.record == b.record
    }

    /// A sample whose record is already `encoded` exactly as `JSONValue.object(record).jsonBytes()`
    /// writes it, with `"id": id` (see ``scanList(_:)``); the tree is parsed only if asked for.
    init(id: String, encoded: [UInt8]) {
        self.id = id
        self.storedRecord = nil
        self.encoded = encoded
    }

    /// Wraps a record; its `id` (a string or a number) is used, or `defaultID` when it has none.
    public init(record: JSONObject, defaultID: String) {
        var record = record
        switch record["id"] {
        case .string(let s)?: id = s
        case .number(let d)?: id = JSONValue.number(d).jsonString
        default: id = defaultID
        }
        record["id"] = .string(id)
        self.storedRecord = record
        self.encoded = JSONValue.object(record).jsonBytes()
    }

    /// A chat sample: `messages` (ending with the generated assistant turn) and an optional reference answer.
    public init(id: String, messages: [(role: String, content: String)], referenceAnswer: JSONValue? = nil,
                extra: [String: JSONValue] = [:]) {
        var r = JSONObject()
        r["id"] = .string(id)
        r["messages"] = .array(messages.map { .object(JSONObject([("role", .string($0.role)), ("content", .string($0.content))])) })
        if let referenceAnswer { r["reference_answer"] = referenceAnswer }
        for k in extra.keys.sorted() where r[k] == nil { r[k] = extra[k] }
        self.id = id
        self.storedRecord = r
        self.encoded = JSONValue.object(r).jsonBytes()
    }

    /// `reference_answer` at the top level, else under `metadata`.
    public var referenceAnswer: JSONValue? {
        record["reference_answer"] ?? record["metadata"]?["reference_answer"]
    }

    /// The content of the last assistant message (what the model generated), if any.
    public var completionText: String? {
        guard let msgs = record["messages"]?.arrayValue else { return record["completion"]?.stringValue }
        for m in msgs.reversed() where m["role"]?.stringValue == "assistant" {
            return m["content"]?.stringValue
        }
        return nil
    }
}

/// A problem with the samples given to the runtime (not with a grader's output).
public struct SampleInputError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

extension Sample {
    /// Reads samples from a JSON list or JSONL text. Missing ids become the sample's index.
    /// - Throws: ``SampleInputError`` naming every bad line (`file:line:column`) or index, e.g. duplicate ids.
    public static func read(_ bytes: [UInt8], source: String) throws -> [Sample] {
        let r = try readLeniently(bytes, source: source)
        if !r.problems.isEmpty { throw SampleInputError(message: r.problems.map(\.message).joined(separator: "\n")) }
        return r.samples
    }

    /// Reads samples, keeping every readable one: each JSONL line that is not a JSON object, or repeats
    /// an id, is a problem named `file:line:column: message` and is left out. Only a JSON list that
    /// does not parse as a whole throws.
    public static func readLeniently(_ bytes: [UInt8], source: String) throws -> (samples: [Sample], problems: [SampleInputError]) {
        var records: [(JSONObject, String, String)] = []  // record, default id, where (for errors)
        var problems: [SampleInputError] = []
        let firstNonSpace = bytes.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        if firstNonSpace == UInt8(ascii: "[") {
            let v: JSONValue
            do { v = try JSONValue.parse(bytes) } catch let e as JSONParseError {
                throw SampleInputError(message: "\(source):\(e.line):\(e.column): \(e.message)")
            }
            for (i, item) in (v.arrayValue ?? []).enumerated() {
                guard let o = item.objectValue else {
                    problems.append(SampleInputError(message: "\(source): [\(i)]: sample must be an object, got \(item.typeName)"))
                    continue
                }
                records.append((o, "\(i)", "\(source): [\(i)]"))
            }
        } else {
            var lineNo = 0
            for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
                lineNo += 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
                let v: JSONValue
                do { v = try JSONValue.parse(Array(line)) } catch let e as JSONParseError {
                    problems.append(SampleInputError(message: "\(source):\(lineNo):\(e.column): \(e.message)"))
                    continue
                }
                guard let o = v.objectValue else {
                    problems.append(SampleInputError(message: "\(source):\(lineNo):1: sample must be an object, got \(v.typeName)"))
                    continue
                }
                records.append((o, "\(records.count)", "\(source):\(lineNo):1"))
            }
        }
        var seen: [String: String] = [:]
        var samples: [Sample] = []
        for (rec, idx, place) in records {
            let s = Sample(record: rec, defaultID: idx)
            if let first = seen[s.id] {
                problems.append(SampleInputError(message: "\(place): duplicate sample id \"\(s.id)\" (first at \(first))"))
                continue
            }
            seen[s.id] = place
            samples.append(s)
        }
        return (samples, problems)
    }
}
