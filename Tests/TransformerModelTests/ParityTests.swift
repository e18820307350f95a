import Foundation
import XCTest
@testable import TransformerModel

/// rft against Hugging Face `transformers` on the tiny random checkpoints made by
/// scripts/make_parity_fixtures.py: config mapping, tokenizer ids, logits, greedy decoding
/// and chat templates.
final class ParityTests: XCTestCase {
    struct Reference {
        var prompts: [(text: String, ids: [Int], greedy: [Int])]
        var chat: (messages: [ChatMessage], reply: String, promptIDs: [Int], fullIDs: [Int])
        var logits: SafeTensorsFile
    }

    func reference(_ name: String) throws -> Reference {
        let json = try XCTUnwrap(Fixtures.json("\(name)/reference.json") as? [String: Any])
        let prompts = try XCTUnwrap(json["prompts"] as? [[String: Any]]).map {
            ($0["text"] as! String, $0["ids"] as! [Int], $0["greedy"] as! [Int])
        }
        let chat = try XCTUnwrap(json["chat"] as? [String: Any])
        let messages = (chat["messages"] as! [[String: String]]).map { ChatMessage(role: $0["role"]!, content: $0["content"]!) }
        return Reference(prompts: prompts,
                         chat: (messages, chat["reply"] as! String, chat["prompt_ids"] as! [Int], chat["full_ids"] as! [Int]),
                         logits: try SafeTensorsFile(contentsOf: Fixtures.url("\(name)/reference.safetensors")))
    }

    func testConfigMapping() throws {
        let llama = try ModelCheckpoint(directory: Fixtures.url("llama-tiny"))
        XCTAssertTrue(llama.isHuggingFace)
        XCTAssertEqual(llama.config, ModelConfig(vocabSize: 360, dim: 32, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 64,
                                                 maxSeqLen: 64, ropeTheta: 10_000, normEps: 1e-6, headDim: 8,
                                                 tiedEmbeddings: false))
        XCTAssertEqual(llama.chatFormat, .llama3)
        let qwen2 = try ModelCheckpoint(directory: Fixtures.url("qwen2-tiny"))
        XCTAssertEqual(qwen2.config, ModelConfig(vocabSize: 368, dim: 32, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 64,
                                                 maxSeqLen: 64, ropeTheta: 1_000_000, normEps: 1e-6,
                                                 tiedEmbeddings: true, attentionBias: true))
        XCTAssertEqual(qwen2.chatFormat, .chatml)
        let qwen3 = try ModelCheckpoint(directory: Fixtures.url("qwen3-tiny"))
        XCTAssertEqual(qwen3.config, ModelConfig(vocabSize: 368, dim: 32, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 64,
                                                 maxSeqLen: 64, ropeTheta: 1_000_000, normEps: 1e-6, headDim: 16,
                                                 tiedEmbeddings: true, qkNorm: true))
    }

    func testLogitsLogProbsAndGreedyMatchTransformers() throws {
        for name in ["llama-tiny", "qwen2-tiny", "qwen3-tiny"] {
            let ckpt = try ModelCheckpoint(directory: Fixtures.url(name))
            let model = try ckpt.loadTransformer()
            let ref = try reference(name)
            let V = ckpt.config.vocabSize
            for (i, p) in ref.prompts.enumerated() {
                XCTAssertEqual(ckpt.tokenizer.encode(p.text, parseSpecial: true), p.ids, "\(name): tokenizer ids for \(p.text.debugDescription)")
                let expected = try ref.logits.floats("logits.\(i)", shape: [p.ids.count, V])

                // Full logits through the KV-cache path (prefill of the whole prompt).
                let logits = fullLogits(model, p.ids)
                XCTAssertEqual(logits.count, expected.count)
                let maxDiff = zip(logits, expected).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(maxDiff, 1e-4, "\(name) prompt \(i): max |logit diff| = \(maxDiff)")

                // Log-probabilities of the next tokens through the training path.
                let lp = try model.tokenLogProbs(TokenBatch(sequences: [p.ids]))
                let expectedLP = (1..<p.ids.count).map { t in logSoftmax(Array(expected[((t - 1) * V)..<(t * V)]))[p.ids[t]] }
                let lpDiff = zip(lp.logProbs[0], expectedLP).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(lpDiff, 1e-4, "\(name) prompt \(i): max |log-prob diff| = \(lpDiff)")

                // Greedy decoding gives the same tokens as `generate(do_sample=False)`.
                var rng = RandomGenerator(seed: 0)
                let out = try model.sample(prompts: [p.ids], options: SamplingOptions(maxNewTokens: p.greedy.count, temperature: 0),
                                           rng: &rng)
                XCTAssertEqual(out[0][0].tokens, p.greedy, "\(name) prompt \(i): greedy continuation")
            }
        }
    }

    func testChatTemplatesMatchTransformers() throws {
        for name in ["llama-tiny", "qwen3-tiny"] {
            let ckpt = try ModelCheckpoint(directory: Fixtures.url(name))
            let template = try ckpt.chatTemplate()
            let ref = try reference(name)
            XCTAssertEqual(try template.prompt(ref.chat.messages), ref.chat.promptIDs, "\(name): prompt")
            let full = try template.conversation(ref.chat.messages + [ChatMessage(role: "assistant", content: ref.chat.reply)])
            XCTAssertEqual(full.tokens, ref.chat.fullIDs, "\(name): conversation")
            // Trained tokens: each assistant reply and its end-of-turn token, nothing else.
            var trained: [[Int]] = [], run: [Int] = []
            for (t, m) in zip(full.tokens, full.lossMask) {
                if m { run.append(t) } else if !run.isEmpty { trained.append(run); run = [] }
            }
            if !run.isEmpty { trained.append(run) }
            let stop = template.stopTokenIDs[0]
            XCTAssertEqual(trained, ["12 + 30 = 42.", ref.chat.reply].map { ckpt.tokenizer.encode($0) + [stop] }, name)
        }
    }

    private func logSoftmax(_ x: [Float]) -> [Float] {
        let m = x.max()!
        let lse = m + Float(log(Double(x.reduce(Float(0)) { $0 + expf($1 - m) })))
        return x.map { $0 - lse }
    }

    /// `[T, V]` logits of every position of `tokens`, from one cached prefill step.
    private func fullLogits(_ model: Transformer, _ tokens: [Int]) -> [Float] {
        let c = model.config, T = tokens.count
        let cache = KVCache(config: c, slots: 1, capacity: T)
        let scratch = DecodeScratch(config: c, rows: T, logitRows: T, capacity: T)
        model.cachedStep(tokens: tokens.map(Int32.init), slots: [Int32](repeating: 0, count: T),
                         positions: (0..<T).map(Int32.init), logitRows: Array(0..<T), cache: cache, s: scratch)
        return Array(UnsafeBufferPointer(start: scratch.logits, count: T * c.vocabSize))
    }
}
