import Foundation
import GraderRuntime
import JSON

/// An OpenAI-compatible chat completions server (vLLM, Ollama, llama.cpp, `rft serve`) used as a
/// sampler for evaluation: `POST {base}/v1/chat/completions`.
public struct ChatEndpoint: Sendable {
    public var baseURL: URL
    public var model: String
    public var apiKey: String?
    public var maxTokens: Int
    public var timeout: TimeInterval = 120

    public init(baseURL: URL, model: String, apiKey: String? = nil, maxTokens: Int) {
        self.baseURL = baseURL; self.model = model; self.apiKey = apiKey; self.maxTokens = maxTokens
    }

    /// The endpoint did not answer, answered an error status, or answered without a completion.
    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    var endpoint: URL {
        let s = baseURL.absoluteString
        if s.hasSuffix("/chat/completions") { return baseURL }
        if s.hasSuffix("/v1") || s.hasSuffix("/v1/") { return baseURL.appendingPathComponent("chat/completions") }
        return baseURL.appendingPathComponent("v1/chat/completions")
    }

    /// `count` completions of `messages` (one request each, so servers without `n` work too).
    public func complete(_ messages: [(role: String, content: String)], count: Int, temperature: Double, seed: UInt64) throws -> [String] {
        let http = HTTPClient(timeout: timeout)
        return try (0..<count).map { k in
            var body: JSONObject = [
                "model": .string(model), "max_tokens": .number(Double(maxTokens)), "temperature": .number(temperature),
                "seed": .number(Double((seed &+ UInt64(k)) % 1_000_000_007)),
                "messages": .array(messages.map { ["role": .string($0.role), "content": .string($0.content)] }),
            ]
            body["stream"] = false
            let response: HTTPClient.Response
            switch http.postJSON(endpoint, body: Data(JSONValue.object(body).jsonString(sortedKeys: true).utf8), apiKey: apiKey) {
            case .success(let r): response = r
            case .failure(let f): throw Failure(message: "\(endpoint.absoluteString): \(f.description)")
            }
            let data = response.body
            guard (200..<300).contains(response.status) else {
                throw Failure(message: "\(endpoint.absoluteString) answered HTTP \(response.status): \(String(decoding: data.prefix(300), as: UTF8.self))")
            }
            guard let json = try? JSONValue.parse(data), let text = json["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue else {
                throw Failure(message: "\(endpoint.absoluteString): no choices[0].message.content in the response")
            }
            return text
        }
    }
}
