import Foundation
import GraderRuntime
import TransformerModel
import XCTest
import JSON
@testable import ModelServer
import RewardServer

/// `rft serve`'s OpenAI-compatible endpoint on a tiny random checkpoint, driven by OpenAI-shaped requests.
final class ChatCompletionTests: XCTestCase {
    private var root: URL!
    private var model: ChatModel!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("rft-chat-\(UUID().uuidString)")
        let config = ModelConfig(vocabSize: 260, dim: 16, nLayers: 1, nHeads: 2, nKVHeads: 1, ffnDim: 24, maxSeqLen: 96,
                                 tiedEmbeddings: false)
        let dir = root.appendingPathComponent("tiny-policy")
        try ModelCheckpoint.save(Transformer(config: config, seed: 3), tokenizer: ByteTokenizer(), to: dir)
        model = try ChatModel(checkpoint: dir)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    /// An OpenAI-style client in Python (the request the SDK sends: POST {base_url}/chat/completions with a
    /// bearer token), reading plain and server-sent-event answers.
    private let client = """
    import json, sys, urllib.request
    base, mode = sys.argv[1], sys.argv[2]
    def post(body):
        req = urllib.request.Request(base + "/chat/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json", "Authorization": "Bearer sk-test"})
        return urllib.request.urlopen(req, timeout=60)
    body = {"model": "tiny-policy", "messages": [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is 2+2?"}], "max_tokens": 12, "temperature": 0, "seed": 1}
    models = json.load(urllib.request.urlopen(urllib.request.Request(base + "/models", headers={"Authorization": "Bearer sk-test"})))
    assert models["object"] == "list" and models["data"][0]["id"] == "tiny-policy", models
    plain = json.load(post(body))
    assert plain["object"] == "chat.completion", plain
    choice = plain["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] in ("stop", "length"), plain
    assert plain["usage"]["total_tokens"] == plain["usage"]["prompt_tokens"] + plain["usage"]["completion_tokens"]
    with post(dict(body, stream=True)) as r:
        assert r.headers["Content-Type"] == "text/event-stream", r.headers
        events = [line[6:] for line in r.read().decode().split("\\n\\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]", events[-3:]
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == choice["finish_reason"], chunks[-1]
    print(json.dumps({"plain": choice["message"]["content"], "streamed": streamed, "chunks": len(chunks)}))
    """

    func testOpenAIStyleClientPlainAndStreaming() async throws {
        let config = loopbackConfiguration { $0.apiKey = "sk-test" }
        let running = try await ModelServer(model: model, configuration: config).start()
        let run = try runPython(["-c", client, "http://127.0.0.1:\(running.port)/v1", "check"])
        try await running.shutdown()
        XCTAssertEqual(run.status, 0, run.stderr)
        let out = try JSONValue.parse(run.stdout)
        // Greedy decoding: the streamed deltas add up to the plain answer, over more than one chunk.
        XCTAssertEqual(out["streamed"], out["plain"])
        XCTAssertGreaterThan(out["chunks"]?.doubleValue ?? 0, 2)
    }

    func testStopSequencesAndSeveralChoices() async throws {
        let running = try await ModelServer(model: model, configuration: loopbackConfiguration()).start()
        defer { Task { try? await running.shutdown() } }
        let base: JSONValue = ["messages": [["role": "user", "content": "hi"]], "max_tokens": 20, "temperature": 0]
        let plain = try await HTTP.post(port: running.port, "/v1/chat/completions", json: base)
        XCTAssertEqual(plain.status, 200, plain.text)
        let text = try XCTUnwrap(plain.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue)
        if text.count >= 4 {
            // Stopping at a piece of the greedy answer cuts the answer right before it.
            let stopAt = String(text.dropFirst(2).prefix(2))
            guard case .object(var o) = base else { return }
            o["stop"] = .string(stopAt)
            let stopped = try await HTTP.post(port: running.port, "/v1/chat/completions", json: .object(o))
            let content = stopped.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? ""
            XCTAssertFalse(content.contains(stopAt))
            XCTAssertTrue(text.hasPrefix(content))
            XCTAssertEqual(stopped.json?["choices"]?.arrayValue?.first?["finish_reason"], "stop")
        }
        guard case .object(var o) = base else { return }
        o["n"] = 3
        o["temperature"] = 1
        let three = try await HTTP.post(port: running.port, "/v1/chat/completions", json: .object(o))
        XCTAssertEqual(three.json?["choices"]?.arrayValue?.map { $0["index"] }, [0, 1, 2])
    }

    func testErrorStatuses() async throws {
        let running = try await ModelServer(model: model, configuration: loopbackConfiguration()).start()
        let port = running.port
        func post(_ body: JSONValue) async throws -> HTTPResult { try await HTTP.post(port: port, "/v1/chat/completions", json: body) }
        let user: JSONValue = [["role": "user", "content": "hi"]]

        let unknown = try await post(["model": "gpt-4o", "messages": user])
        XCTAssertEqual(unknown.status, 404)
        XCTAssertTrue(unknown.errorMessage.contains("model \"gpt-4o\" not found (served: tiny-policy)"), unknown.errorMessage)
        let noMessages = try await post(["model": "tiny-policy"])
        XCTAssertEqual(noMessages.status, 400)
        XCTAssertTrue(noMessages.errorMessage.hasPrefix("messages:"), noMessages.errorMessage)
        let badRole = try await post(["messages": [["role": "tool", "content": "x"]]])
        XCTAssertTrue(badRole.errorMessage.contains("messages[0].role"), badRole.errorMessage)
        let badTemp = try await post(["messages": user, "temperature": 3])
        XCTAssertEqual(badTemp.status, 400)
        let streamN = try await post(["messages": user, "stream": true, "n": 2])
        XCTAssertTrue(streamN.errorMessage.contains("streaming supports n = 1 only"), streamN.errorMessage)
        let tooLong = try await post(["messages": [["role": "user", "content": .string(String(repeating: "x", count: 200))]]])
        XCTAssertEqual(tooLong.status, 400)
        XCTAssertTrue(tooLong.errorMessage.contains("context is 96 tokens"), tooLong.errorMessage)
        let malformed = try await HTTP.request("POST", port: port, "/v1/chat/completions", body: Data("{\"messages\": [".utf8))
        XCTAssertEqual(malformed.status, 400)
        XCTAssertTrue(malformed.errorMessage.contains("line 1"), malformed.errorMessage)
        try await running.shutdown()
    }
}
