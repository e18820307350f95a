import Foundation
import XCTest
@testable import TransformerModel

final class CheckpointTests: XCTestCase {
    let tiny = ModelConfig(vocabSize: 260, dim: 16, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 24, maxSeqLen: 32,
                           tiedEmbeddings: false)

    func testRFTCheckpointRoundTripsWithByteTokenizer() throws {
        let dir = try temporaryDirectory(self).appendingPathComponent("ckpt")
        let model = Transformer(config: tiny, seed: 7)
        try ModelCheckpoint.save(model, tokenizer: ByteTokenizer(), to: dir)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(files, ["config.json", "model.safetensors", "rft_tokenizer.json"])
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertEqual(config["n_kv_heads"] as? Int, 2)

        let loaded = try ModelCheckpoint(directory: dir)
        XCTAssertFalse(loaded.isHuggingFace)
        XCTAssertEqual(loaded.config, tiny)
        XCTAssertTrue(loaded.tokenizer is ByteTokenizer)
        XCTAssertEqual(loaded.chatFormat, .byte)
        let copy = try loaded.loadTransformer()
        XCTAssertEqual(Array(copy.parameters), Array(model.parameters))
        // Tensor names are the Hugging Face ones.
        let st = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(Set(st.tensors.keys), Set(model.layout.tensors.map(\.name)))
        XCTAssertEqual(st.tensors["model.layers.1.self_attn.k_proj.weight"]?.shape, [8, 16])
    }

    func testHuggingFaceCheckpointResavesAsRFTWithItsTokenizer() throws {
        let hf = try ModelCheckpoint(directory: Fixtures.url("qwen3-tiny"))
        let model = try hf.loadTransformer()
        let dir = try temporaryDirectory(self)
        try ModelCheckpoint.save(model, tokenizer: hf.tokenizer, chatFormat: hf.chatFormat, to: dir)
        let back = try ModelCheckpoint(directory: dir)
        XCTAssertEqual(back.config, hf.config)
        XCTAssertEqual(back.chatFormat, .chatml)
        XCTAssertEqual(back.tokenizer.eosID, hf.tokenizer.eosID)
        XCTAssertEqual(back.tokenizer.encode("The quick brown fox 123"), hf.tokenizer.encode("The quick brown fox 123"))
        let reloaded = try back.loadTransformer()   // keep the model alive while reading its buffer
        XCTAssertEqual(Array(reloaded.parameters), Array(model.parameters))
    }

    func testOptimizerStateRoundTrips() throws {
        let dir = try temporaryDirectory(self)
        let model = Transformer(config: tiny, seed: 1)
        let opt = AdamW(layout: model.layout, weightDecay: 0.1)
        for _ in 0..<2 {
            model.zeroGrad()
            _ = try model.crossEntropyLossAndBackward(TokenBatch(sequences: [[1, 2, 3, 4, 5]]))
            opt.step(parameters: model.parameters, gradients: model.gradients, learningRate: 1e-2)
        }
        try OptimizerCheckpoint.save(opt, layout: model.layout, to: dir)
        XCTAssertTrue(OptimizerCheckpoint.exists(in: dir))
        let restored = AdamW(layout: model.layout)
        try OptimizerCheckpoint.load(into: restored, layout: model.layout, from: dir)
        XCTAssertEqual(restored.state, opt.state)
        XCTAssertEqual(restored.weightDecay, 0.1)
        XCTAssertEqual(restored.stepCount, 2)
        // A different model shape is refused, naming the tensor.
        let other = ParameterLayout(ModelConfig(vocabSize: 260, dim: 8, nLayers: 2, nHeads: 2, ffnDim: 8, maxSeqLen: 8,
                                                tiedEmbeddings: false))
        XCTAssertThrowsError(try OptimizerCheckpoint.load(into: AdamW(layout: other), layout: other, from: dir)) { error in
            guard case .shapeMismatch(_, let tensor, _, _)? = error as? ModelIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(tensor, "exp_avg.model.embed_tokens.weight")
        }
    }

    /// Copies the llama fixture, lets `edit` break it, and returns the load error.
    func brokenLlama(_ edit: (URL) throws -> Void) throws -> Error? {
        let dir = try temporaryDirectory(self).appendingPathComponent("llama")
        try FileManager.default.copyItem(at: Fixtures.url("llama-tiny"), to: dir)
        try edit(dir)
        do {
            let ckpt = try ModelCheckpoint(directory: dir)
            _ = try ckpt.loadTransformer()
            return nil
        } catch { return error }
    }

    func testCheckpointErrorsNameTheTensorAndFile() throws {
        // The config says a bigger FFN than the tensors have.
        var error = try brokenLlama { dir in
            let url = dir.appendingPathComponent("config.json")
            let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\"intermediate_size\": 64", with: "\"intermediate_size\": 96")
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        guard case .shapeMismatch(let path, let tensor, let expected, let found)? = error as? ModelIOError else {
            return XCTFail("\(String(describing: error))")
        }
        XCTAssertTrue(path.hasSuffix(".safetensors"))
        XCTAssertTrue(tensor.hasSuffix("mlp.gate_proj.weight"), tensor)
        XCTAssertEqual(expected, [96, 32]); XCTAssertEqual(found, [64, 32])

        // An untied config for a checkpoint without lm_head is a missing tensor; a tied one
        // leaves lm_head.weight unexpected.
        error = try brokenLlama { dir in
            let url = dir.appendingPathComponent("config.json")
            let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\"tie_word_embeddings\": false", with: "\"tie_word_embeddings\": true")
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        XCTAssertNil(error, "a redundant lm_head.weight in a tied model is ignored")
        error = try brokenLlama { dir in
            let url = dir.appendingPathComponent("config.json")
            let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\"num_hidden_layers\": 2", with: "\"num_hidden_layers\": 3")
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        XCTAssertEqual((error as? ModelIOError).map { "\($0)" }?.contains("missing tensor 'model.layers.2.input_layernorm.weight'"), true,
                       "\(String(describing: error))")
        error = try brokenLlama { dir in
            let url = dir.appendingPathComponent("config.json")
            let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\"num_hidden_layers\": 2", with: "\"num_hidden_layers\": 1")
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        guard case .unexpectedTensor(_, let extra)? = error as? ModelIOError else { return XCTFail("\(String(describing: error))") }
        XCTAssertTrue(extra.hasPrefix("model.layers.1."), extra)

        // A shard that the index names is gone.
        error = try brokenLlama { dir in try FileManager.default.removeItem(at: dir.appendingPathComponent("model-00002-of-00003.safetensors")) }
        guard case .unreadable(let p, _)? = error as? ModelIOError else { return XCTFail("\(String(describing: error))") }
        XCTAssertTrue(p.hasSuffix("model-00002-of-00003.safetensors"))

        // A truncated shard.
        error = try brokenLlama { dir in
            let url = dir.appendingPathComponent("model-00001-of-00003.safetensors")
            try Data(try Data(contentsOf: url).prefix(1000)).write(to: url)
        }
        guard case .malformed(let p2, _)? = error as? ModelIOError else { return XCTFail("\(String(describing: error))") }
        XCTAssertTrue(p2.hasSuffix("model-00001-of-00003.safetensors"))

        // Unsupported architecture features are refused up front.
        error = try brokenLlama { dir in
            let url = dir.appendingPathComponent("config.json")
            let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\"rope_type\": \"default\"", with: "\"rope_type\": \"llama3\"")
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        XCTAssertEqual((error as? ModelIOError).map { "\($0)" }?.contains("rope_parameters type 'llama3'"), true, "\(String(describing: error))")
    }

    func testHuggingFaceConfigVariants() throws {
        // transformers 4.x style: top-level rope_theta, no head_dim, defaults for the rest.
        let v4: [String: Any] = ["model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8,
                                 "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 500,
                                 "rope_theta": 1_000_000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": true,
                                 "rope_scaling": NSNull(), "sliding_window": 4096, "use_sliding_window": false]
        let c = try ModelConfig(huggingFace: v4, path: "config.json")
        XCTAssertEqual(c.headDim, 8); XCTAssertEqual(c.ropeTheta, 1_000_000); XCTAssertTrue(c.attentionBias)
        XCTAssertEqual(c.maxSeqLen, 2048); XCTAssertFalse(c.qkNorm)
        var bad = v4; bad["model_type"] = "gpt2"
        XCTAssertThrowsError(try ModelConfig(huggingFace: bad, path: "x/config.json")) { e in
            XCTAssertTrue("\(e)".hasPrefix("x/config.json: unsupported: model_type 'gpt2'"), "\(e)")
        }
        bad = v4; bad["hidden_size"] = "64"
        XCTAssertThrowsError(try ModelConfig(huggingFace: bad, path: "config.json")) { e in
            XCTAssertEqual(e as? ModelIOError, .malformed(path: "config.json", detail: "'hidden_size' must be a positive integer"))
        }
    }

    func testRFTConfigErrorsNameTheKey() throws {
        let dir = try temporaryDirectory(self)
        try Data(#"{"vocab_size": 260, "dim": 16}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try ModelCheckpoint(directory: dir)) { e in
            XCTAssertEqual("\(e)", "\(dir.path)/config.json: malformed: missing key 'n_heads'")
        }
    }
}
