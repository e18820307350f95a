import Foundation
import GraderRuntime
import Hummingbird
import JSON
import ServerSupport
import TransformerModel

/// The OpenAI-compatible endpoints: `POST /v1/chat/completions` (optionally streamed as server-sent
/// events) and `GET /v1/models`.
struct ChatRoutes: Sendable {
    let model: ChatModel
    let configuration: ServerConfiguration
    let gate: AdmissionGate
    let created = Int(Date().timeIntervalSince1970)

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in Response.json(["status": "ok"]) }
        router.get("/v1/models") { _, _ in
            Response.json(["object": "list", "data": [modelCard]])
        }
        router.get("/v1/models/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard id == model.id else { return APIError.notFound("model \"\(id)\" not found (served: \(model.id))").response }
            return Response.json(modelCard)
        }
        router.post("/v1/chat/completions") { request, _ in
            do {
                return try await complete(request)
            } catch let error as APIError {
                return error.response
            }
        }
    }

    private var modelCard: JSONValue {
        ["id": .string(model.id), "object": "model", "created": .number(Double(created)), "owned_by": "rft"]
    }

    private func complete(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.jsonBody(limit: configuration.maxBodyBytes)
        let (params, stream) = try parse(body)
        let completionID = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let now = Int(Date().timeIntervalSince1970)

        do { try await gate.acquire() } catch is AdmissionGate.Rejected {
            throw APIError.throttled(retryAfter: configuration.retryAfterSeconds,
                                     "the model is busy (\(gate.queueLimit) requests waiting); retry after \(configuration.retryAfterSeconds) s")
        }
        let deadline = ContinuousClock.now + configuration.requestDeadline

        if stream {
            let (chunks, continuation) = AsyncStream<ByteBuffer>.makeStream()
            let cancelled = CancelFlag()
            continuation.onTermination = { _ in cancelled.set() }
            let header: JSONValue = chunk(completionID, now, delta: ["role": "assistant", "content": ""], finish: nil)
            continuation.yield(sse(header))
            Task {
                defer { gate.release() }
                do {
                    let result = try await model.generate(params, onText: { text in
                        continuation.yield(sse(chunk(completionID, now, delta: ["content": .string(text)], finish: nil)))
                    }, isCancelled: { cancelled.isSet || ContinuousClock.now > deadline })
                    var last = chunk(completionID, now, delta: .object(JSONObject()), finish: result.choices[0].finishReason)
                    if case .object(var o) = last {
                        o["usage"] = usage(prompt: result.promptTokens, completion: result.choices[0].tokens)
                        last = .object(o)
                    }
                    continuation.yield(sse(last))
                } catch {
                    let e: JSONValue = ["error": ["type": "invalid_request_error", "message": .string(describe(error))]]
                    continuation.yield(sse(e))
                }
                continuation.yield(ByteBuffer(string: "data: [DONE]\n\n"))
                continuation.finish()
            }
            return Response(status: .ok,
                            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                            body: ResponseBody(asyncSequence: chunks))
        }

        defer { gate.release() }
        let result: ChatModel.Result
        do {
            result = try await model.generate(params, isCancelled: { ContinuousClock.now > deadline })
        } catch let error as ChatModel.InvalidRequest {
            throw APIError.badRequest(error.message)
        }
        let choices: [JSONValue] = result.choices.enumerated().map { i, c in
            ["index": .number(Double(i)), "message": ["role": "assistant", "content": .string(c.text)],
             "finish_reason": .string(c.finishReason), "logprobs": nil]
        }
        return .json([
            "id": .string(completionID), "object": "chat.completion", "created": .number(Double(now)),
            "model": .string(model.id), "choices": .array(choices),
            "usage": usage(prompt: result.promptTokens, completion: result.choices.map(\.tokens).reduce(0, +)),
        ])
    }

    private func describe(_ error: Error) -> String {
        (error as? ChatModel.InvalidRequest)?.message ?? "\(error)"
    }

    private func usage(prompt: Int, completion: Int) -> JSONValue {
        ["prompt_tokens": .number(Double(prompt)), "completion_tokens": .number(Double(completion)),
         "total_tokens": .number(Double(prompt + completion))]
    }

    private func chunk(_ id: String, _ created: Int, delta: JSONValue, finish: String?) -> JSONValue {
        ["id": .string(id), "object": "chat.completion.chunk", "created": .number(Double(created)), "model": .string(model.id),
         "choices": [["index": 0, "delta": delta, "finish_reason": finish.map(JSONValue.string) ?? .null, "logprobs": nil]]]
    }

    private func sse(_ value: JSONValue) -> ByteBuffer {
        var bytes = Array("data: ".utf8)
        value.write(into: &bytes)
        bytes += Array("\n\n".utf8)
        return ByteBuffer(bytes: bytes)
    }

    /// Reads an OpenAI chat request; 400 naming the field for anything this server cannot honour.
    func parse(_ body: JSONValue) throws -> (ChatModel.Request, stream: Bool) {
        guard let o = body.objectValue else { throw APIError.badRequest("expected a JSON object, got \(body.typeName)") }
        if let m = o["model"], !m.isNull {
            guard let name = m.stringValue else { throw APIError.badRequest("model: expected a string, got \(m.typeName)") }
            guard name == model.id else { throw APIError.notFound("model \"\(name)\" not found (served: \(model.id))") }
        }
        guard let list = o["messages"]?.arrayValue, !list.isEmpty else {
            throw APIError.badRequest("messages: expected a non-empty array of {role, content}")
        }
        var messages: [ChatMessage] = []
        for (i, m) in list.enumerated() {
            guard var role = m["role"]?.stringValue else { throw APIError.badRequest("messages[\(i)].role: expected a string") }
            if role == "developer" { role = "system" }
            guard ["system", "user", "assistant"].contains(role) else {
                throw APIError.badRequest("messages[\(i)].role: \"\(role)\" is not system, developer, user or assistant")
            }
            let content: String
            switch m["content"] {
            case .string(let s)?: content = s
            case .array(let parts)?:
                // [{"type": "text", "text": ...}]: text parts only.
                content = try parts.enumerated().map { j, p in
                    guard p["type"]?.stringValue == "text", let t = p["text"]?.stringValue else {
                        throw APIError.badRequest("messages[\(i)].content[\(j)]: only {\"type\": \"text\", \"text\"} parts are supported")
                    }
                    return t
                }.joined()
            case .null?, nil: content = ""
            case let other?: throw APIError.badRequest("messages[\(i)].content: expected a string or an array of text parts, got \(other.typeName)")
            }
            messages.append(ChatMessage(role: role, content: content))
        }
        func number(_ key: String) throws -> Double? {
            guard let v = o[key], !v.isNull else { return nil }
            guard let d = v.doubleValue, d.isFinite else { throw APIError.badRequest("\(key): expected a number, got \(v.typeName)") }
            return d
        }
        var maxTokens: Int? = nil
        for key in ["max_completion_tokens", "max_tokens"] {
            if let d = try number(key) {
                guard d >= 1, d == d.rounded() else { throw APIError.badRequest("\(key): expected a positive integer") }
                maxTokens = Int(d)
                break
            }
        }
        let temperature = try number("temperature") ?? 1
        guard (0...2).contains(temperature) else { throw APIError.badRequest("temperature: must be between 0 and 2") }
        let topP = try number("top_p") ?? 1
        guard topP > 0, topP <= 1 else { throw APIError.badRequest("top_p: must be in (0, 1]") }
        let topK = try number("top_k") ?? 0
        guard topK >= 0, topK == topK.rounded() else { throw APIError.badRequest("top_k: must be a non-negative integer") }
        let n = try number("n") ?? 1
        guard n >= 1, n <= 16, n == n.rounded() else { throw APIError.badRequest("n: must be an integer from 1 to 16") }
        var stop: [String] = []
        switch o["stop"] {
        case .string(let s)?: stop = [s]
        case .array(let a)?:
            stop = try a.enumerated().map { i, v in
                guard let s = v.stringValue else { throw APIError.badRequest("stop[\(i)]: expected a string") }
                return s
            }
        case .null?, nil: break
        case let other?: throw APIError.badRequest("stop: expected a string or an array of strings, got \(other.typeName)")
        }
        stop = stop.filter { !$0.isEmpty }
        guard stop.count <= 4 else { throw APIError.badRequest("stop: at most 4 sequences") }
        let seed = try number("seed").map { UInt64(bitPattern: Int64($0)) } ?? UInt64.random(in: 0...UInt64.max)
        var stream = false
        if let s = o["stream"], !s.isNull {
            guard let b = s.boolValue else { throw APIError.badRequest("stream: expected a boolean") }
            stream = b
        }
        if stream && n != 1 { throw APIError.badRequest("n: streaming supports n = 1 only") }
        let request = ChatModel.Request(messages: messages, maxTokens: maxTokens, temperature: Float(temperature),
                                        topP: Float(topP), topK: Int(topK), n: Int(n), stop: stop, seed: seed)
        return (request, stream)
    }
}

/// A flag set from one thread and read from another.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
