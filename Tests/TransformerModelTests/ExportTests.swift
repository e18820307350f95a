import Foundation
import XCTest
@testable import TransformerModel

final class HuggingFaceExportTests: XCTestCase {
    func testByteModelExportLoadsBackAsHuggingFaceWithTheSameTokensAndWeights() throws {
        let config = ModelConfig(vocabSize: 260, dim: 16, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 24, maxSeqLen: 32)
        let model = Transformer(config: config, seed: 5)
        let dir = try temporaryDirectory(self)
        try HuggingFaceExport.save(model, tokenizer: ByteTokenizer(), to: dir)
        let hf = try ModelCheckpoint(directory: dir)
        XCTAssertTrue(hf.isHuggingFace)
        XCTAssertEqual(hf.config, config)
        XCTAssertEqual(hf.chatFormat, .byte)
        let byte = ByteTokenizer()
        for text in ["", "Café 🙂\n\t<|user|> x", String(repeating: "ab ", count: 50)] {
            XCTAssertEqual(hf.tokenizer.encode(text), byte.encode(text))
            XCTAssertEqual(hf.tokenizer.encode(text, parseSpecial: true), byte.encode(text, parseSpecial: true))
        }
        XCTAssertEqual(hf.tokenizer.eosID, byte.eosID)
        XCTAssertEqual(hf.tokenizer.padID, byte.padID)
        let messages = [ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "q"),
                        ChatMessage(role: "assistant", content: "a")]
        XCTAssertEqual(try hf.chatTemplate().conversation(messages), try ChatTemplate(tokenizer: byte).conversation(messages))
        let reloaded = try hf.loadTransformer()
        XCTAssertEqual(Array(reloaded.parameters), Array(model.parameters))
    }

    func testModelTypeFollowsTheArchitecture() throws {
        let base = ModelConfig(vocabSize: 300, dim: 32, nLayers: 1, nHeads: 4, ffnDim: 64, maxSeqLen: 64)
        var qwen2 = base; qwen2.attentionBias = true
        var qwen3 = base; qwen3.qkNorm = true; qwen3.headDim = 16
        for (config, type) in [(base, "llama"), (qwen2, "qwen2"), (qwen3, "qwen3")] {
            let json = HuggingFaceExport.huggingFaceConfig(config, eos: 1, bos: nil, pad: 0)
            XCTAssertEqual(json["model_type"] as? String, type)
            XCTAssertEqual(try ModelConfig(huggingFace: json, path: "config.json"), config, type)
        }
    }
}
