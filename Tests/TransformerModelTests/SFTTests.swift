import Foundation
import XCTest
@testable import TransformerModel

final class SFTTests: XCTestCase {
    /// Greeting conversations: the reply copies a name from the request.
    func chatJSONL(names: [String]) -> String {
        names.map { name in
            let obj: [String: Any] = ["messages": [["role": "user", "content": "Greet \(name)."],
                                                   ["role": "assistant", "content": "Hi \(name)!"]]]
            return String(decoding: try! JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
        }.joined(separator: "\n")
    }

    func testSFTLowersHeldOutLossAndTheCheckpointLoadsBackAndSamples() throws {
        let dir = try temporaryDirectory(self)
        let names = ["Ann", "Bob", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal", "Ida", "Jo", "Kim", "Lou", "Max", "Ned",
                     "Oli", "Pam", "Quin", "Roy", "Sue", "Tom", "Uma", "Val", "Wes", "Xia", "Yul", "Zed", "Abe", "Bea",
                     "Cal", "Dot", "Eli", "Flo", "Gil", "Hana", "Ivo", "Jan"]
        let data = dir.appendingPathComponent("chat.jsonl")
        try (chatJSONL(names: names) + "\n{\"messages\": []}\n").write(to: data, atomically: true, encoding: .utf8)

        let config = ModelConfig(vocabSize: 260, dim: 32, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 64, maxSeqLen: 48)
        let model = Transformer(config: config, seed: 3)
        let template = try ChatTemplate(tokenizer: ByteTokenizer())
        let (records, readIssues) = try ChatDataset.load(data)
        XCTAssertEqual(readIssues.map(\.description), ["\(data.path):37: no assistant message to train on"])
        let prepared = SupervisedFineTuning.prepare(records, template: template, file: data.path, maxSeqLen: config.maxSeqLen)
        XCTAssertTrue(prepared.issues.isEmpty)
        let (train, val) = SupervisedFineTuning.split(prepared.examples, validationFraction: 0.15, seed: 1)
        XCTAssertEqual(val.count, 5)
        XCTAssertEqual(Set(train.map(\.source) + val.map(\.source)).count, names.count)

        var options = SFTOptions()
        options.epochs = 12; options.batchSize = 8; options.learningRate = 1e-2
        let sft = SupervisedFineTuning(model: model)
        var epochsSaved: [Int] = [], steps = 0
        let out = dir.appendingPathComponent("ckpt")
        let summary = try sft.run(train: train, validation: val, options: options) { event in
            switch event {
            case .step(let m): steps = m.step; XCTAssertTrue(m.loss.isFinite)
            case .epochEnded(let epoch, _, _, _):
                try ModelCheckpoint.save(model, tokenizer: template.tokenizer, to: out)
                try OptimizerCheckpoint.save(sft.optimizer, layout: model.layout, to: out)
                epochsSaved.append(epoch)
            default: break
            }
        }
        XCTAssertEqual(summary.steps, 48); XCTAssertEqual(steps, 48)
        XCTAssertEqual(epochsSaved, Array(1...12))
        let initial = try XCTUnwrap(summary.initialValidationLoss), final = try XCTUnwrap(summary.finalValidationLoss)
        XCTAssertLessThan(final, initial * 0.5, "held-out loss \(initial) → \(final)")

        // The saved checkpoint loads back, has the trained weights, and answers in the learned format.
        let ckpt = try ModelCheckpoint(directory: out)
        let reloaded = try ckpt.loadTransformer()
        XCTAssertEqual(Array(reloaded.parameters), Array(model.parameters))
        let chat = try ckpt.chatTemplate()
        let prompt = try chat.prompt([ChatMessage(role: "user", content: "Greet Ann.")])
        var rng = RandomGenerator(seed: 0)
        let completion = try reloaded.sample(prompts: [prompt], options: SamplingOptions(
            maxNewTokens: 16, temperature: 0, eosTokenIDs: Set(chat.stopTokenIDs)), rng: &rng)[0][0]
        let text = ckpt.tokenizer.decode(completion.tokens, skipSpecial: true)
        XCTAssertTrue(text.hasPrefix("Hi "), text)
        XCTAssertEqual(completion.finishReason, .eos, text)
        let restored = AdamW(layout: reloaded.layout)
        try OptimizerCheckpoint.load(into: restored, layout: reloaded.layout, from: out)
        XCTAssertEqual(restored.stepCount, 48)
    }

    func testPrepareTruncatesAndReportsConversationsWithoutTrainedTokens() throws {
        let template = try ChatTemplate(tokenizer: ByteTokenizer())
        let long = ChatRecord(messages: [ChatMessage(role: "user", content: String(repeating: "x", count: 30)),
                                         ChatMessage(role: "assistant", content: "ok")], line: 4)
        let fits = ChatRecord(messages: [ChatMessage(role: "user", content: "q"), ChatMessage(role: "assistant", content: String(repeating: "y", count: 40))], line: 5)
        let (examples, issues) = SupervisedFineTuning.prepare([long, fits], template: template, file: "d.jsonl", maxSeqLen: 16)
        XCTAssertEqual(issues.map(\.description), ["d.jsonl:4: no assistant tokens within the first 16 tokens"])
        XCTAssertEqual(examples.count, 1)
        XCTAssertEqual(examples[0].tokens.count, 16)
        XCTAssertTrue(examples[0].truncated)
        XCTAssertEqual(examples[0].source, "d.jsonl:5")
        XCTAssertThrowsError(try SupervisedFineTuning(model: Transformer(config: .ref1m)).run(train: [], validation: [], options: SFTOptions())) {
            XCTAssertEqual($0 as? SFTError, .noTrainingData)
        }
    }
}

final class SFTMicroBatchTests: XCTestCase {
    /// Gradient accumulation over micro-batches gives the same loss and gradients as one pass.
    func testMicroBatchesAccumulateTheSameGradient() throws {
        let config = ModelConfig(vocabSize: 260, dim: 16, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 24, maxSeqLen: 32)
        let model = Transformer(config: config, seed: 9)
        let batch = TokenBatch(sequences: [[1, 2, 3, 4, 5], [6, 7, 8], [9, 10, 11, 12, 13, 14, 15]],
                               lossMask: [[false, false, true, true, true], [false, true, true],
                                          [false, false, false, false, true, true, true]])
        let sft = SupervisedFineTuning(model: model)
        model.zeroGrad()
        let whole = try model.crossEntropyLossAndBackward(batch)
        let reference = Array(model.gradients)
        model.zeroGrad()
        let micro = try sft.lossAndBackward(batch, microBatchSize: 2)
        XCTAssertEqual(micro, whole, accuracy: 1e-5)
        let maxDiff = zip(reference, Array(model.gradients)).map { abs($0 - $1) }.max()!
        let scale = reference.map(abs).max()!
        XCTAssertLessThan(maxDiff, 1e-5 * max(1, scale))
    }
}
