import GraderRuntime
import JSON
import ServerSupport

/// How `POST /get_reward` (OpenRLHF's remote reward-model protocol) maps onto a grader batch.
public struct OpenRLHFConfiguration: Sendable {
    /// How a label becomes the sample's `reference_answer`.
    public enum LabelMapping: Sendable, Equatable {
        /// The label string as is.
        case string
        /// The label parsed as JSON when it is valid JSON (`"42"` → 42, `"{...}"` → object), else the string.
        case json
        /// `{"<field>": label}`.
        case field(String)
    }

    /// How the response is cut out of `query` (which holds prompt and response as one text).
    public enum ResponseSplit: Sendable, Equatable {
        /// `query` starts with the matching entry of `prompts`; the response is the rest.
        case prompt
        /// The response follows the last occurrence of this marker (e.g. `<|im_start|>assistant\n`);
        /// the text before it is the prompt.
        case marker(String)
    }

    /// The grader or reward spec `/get_reward` uses; nil means the only one served.
    public var grader: String?
    public var labelMapping: LabelMapping = .json
    public var responseSplit: ResponseSplit = .prompt
    /// Suffixes cut from the end of a response (end-of-sequence tokens such as `</s>` or `<|im_end|>`).
    public var stripSuffixes: [String] = []
    /// Reward reported for a sample whose grading failed (its `grader_error` log entry is 1).
    public var errorReward: Double = 0

    public init() {}
}

/// Converts between OpenRLHF's `{query, prompts, labels}` / `{rewards, scores, extra_logs}` and the
/// Bedrock batch contract.
struct OpenRLHFAdapter {
    let configuration: OpenRLHFConfiguration

    /// A parsed request: one sample per query, or a typed error for queries that cannot be split.
    struct Batch {
        var samples: [Sample]
        /// Per query index, the position of its sample in `samples`, or the reason it has none.
        var slots: [Result<Int, APIError>]
    }

    func batch(from body: JSONValue) throws -> Batch {
        guard body.objectValue != nil else { throw APIError.badRequest("expected a JSON object {query, prompts, labels}, got \(body.typeName)") }
        guard let queryValue = body["query"] else { throw APIError.badRequest("missing field \"query\"") }
        guard let queries = queryValue.arrayValue else { throw APIError.badRequest("field \"query\": expected an array of strings, got \(queryValue.typeName)") }
        let prompts = try optionalArray(body, "prompts", count: queries.count)
        let labels = try optionalArray(body, "labels", count: queries.count)

        var samples: [Sample] = []
        var slots: [Result<Int, APIError>] = []
        samples.reserveCapacity(queries.count)
        for (i, q) in queries.enumerated() {
            guard let query = q.stringValue else { throw APIError.badRequest("query[\(i)]: expected a string, got \(q.typeName)") }
            var prompt: String? = nil
            if let p = prompts?[i], p != .null {
                guard let s = p.stringValue else { throw APIError.badRequest("prompts[\(i)]: expected a string, got \(p.typeName)") }
                prompt = s
            }
            switch split(query: query, prompt: prompt) {
            case .failure(let failure):
                slots.append(.failure(APIError(status: .badRequest, type: "invalid_input", message: "query[\(i)]: \(failure.reason)")))
            case .success(let (promptText, response)):
                var reference: JSONValue? = nil
                if let label = labels?[i], label != .null { reference = referenceAnswer(label) }
                slots.append(.success(samples.count))
                samples.append(Sample(id: String(i), messages: [("user", promptText), ("assistant", response)],
                                      referenceAnswer: reference))
            }
        }
        return Batch(samples: samples, slots: slots)
    }

    private func optionalArray(_ body: JSONValue, _ field: String, count: Int) throws -> [JSONValue]? {
        guard let value = body[field], value != .null else { return nil }
        guard let array = value.arrayValue else { throw APIError.badRequest("field \"\(field)\": expected an array, got \(value.typeName)") }
        guard array.count == count else {
            throw APIError.badRequest("field \"\(field)\" has \(array.count) entries but \"query\" has \(count)")
        }
        return array
    }

    struct SplitFailure: Error { var reason: String }

    private func split(query: String, prompt: String?) -> Result<(String, String), SplitFailure> {
        var prompt = prompt
        var response: String
        switch configuration.responseSplit {
        case .prompt:
            guard let p = prompt else { return .failure(SplitFailure(reason: "no prompts[] entry to split the response from the query (use a response marker instead)")) }
            guard query.hasPrefix(p) else { return .failure(SplitFailure(reason: "the query does not start with its prompt, so the response cannot be split off (use a response marker instead)")) }
            response = String(query.dropFirst(p.count))
        case .marker(let marker):
            guard let range = query.range(of: marker, options: .backwards) else {
                return .failure(SplitFailure(reason: "the response marker \(JSONValue.string(marker).jsonString) does not occur in the query"))
            }
            response = String(query[range.upperBound...])
            if prompt == nil { prompt = String(query[..<range.lowerBound]) }
        }
        var stripped = true
        while stripped {
            stripped = false
            for s in configuration.stripSuffixes where !s.isEmpty && response.hasSuffix(s) {
                response.removeLast(s.count)
                stripped = true
            }
        }
        return .success((prompt ?? "", response))
    }

    private func referenceAnswer(_ label: JSONValue) -> JSONValue {
        switch configuration.labelMapping {
        case .string: return label
        case .json:
            guard let s = label.stringValue, let parsed = try? JSONValue.parse(s) else { return label }
            return parsed
        case .field(let name): return .object(JSONObject([(name, label)]))
        }
    }

    /// `{rewards, scores, extra_logs}` for the request, from the grader's output list.
    func response(batch: Batch, outputs: [JSONValue]) -> JSONValue {
        var byID: [String: JSONValue] = [:]
        for o in outputs { if let id = o["id"]?.stringValue { byID[id] = o } }
        var rewards: [JSONValue] = []
        var errors: [JSONValue] = []
        var metricNames: [String] = []
        var metricValues: [String: [Int: Double]] = [:]
        for (i, slot) in batch.slots.enumerated() {
            guard case .success = slot, let out = byID[String(i)], let score = out["aggregate_reward_score"]?.doubleValue, score.isFinite else {
                rewards.append(.number(configuration.errorReward))
                errors.append(.number(1))
                continue
            }
            rewards.append(.number(score))
            errors.append(.number(0))
            for m in out["metrics_list"]?.arrayValue ?? [] {
                guard let name = m["name"]?.stringValue, let v = m["value"]?.doubleValue, v.isFinite else { continue }
                if metricValues[name] == nil { metricNames.append(name) }
                metricValues[name, default: [:]][i] = v
            }
        }
        var logs: [(String, JSONValue)] = metricNames.map { name in
            (name, .array((0..<batch.slots.count).map { .number(metricValues[name]?[$0] ?? 0) }))
        }
        logs.append(("grader_error", .array(errors)))
        return ["rewards": .array(rewards), "scores": .array(rewards), "extra_logs": .object(JSONObject(logs))]
    }
}

