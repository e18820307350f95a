import ArgumentParser
import Foundation
import TransformerModel

/// `rft export`: write a checkpoint in Hugging Face format.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint as a Hugging Face model directory (transformers, vLLM).",
        discussion: """
        The output holds config.json (model_type llama, qwen2 or qwen3), model.safetensors (F32), tokenizer.json and tokenizer_config.json with a chat_template that renders the same chat format rft trains with. The byte tokenizer is written as an equivalent byte-level BPE. rft loads the result too.

        Examples:
          rft export --model runs/sft-demo --out exported/sft-demo
          python3 -c "from transformers import AutoModelForCausalLM as M; M.from_pretrained('exported/sft-demo')"
        """
    )

    @Option(help: "Checkpoint directory (rft or Hugging Face).")
    var model: String

    @Option(help: "Directory to write (created if needed).")
    var out: String

    func run() throws {
        let ckpt = try ModelCheckpoint(directory: URL(fileURLWithPath: model))
        let transformer = try ckpt.loadTransformer()
        try HuggingFaceExport.save(transformer, tokenizer: ckpt.tokenizer, chatFormat: ckpt.chatFormat,
                                   to: URL(fileURLWithPath: out))
        let type = HuggingFaceExport.huggingFaceConfig(ckpt.config, eos: nil, bos: nil, pad: nil)["model_type"] as? String ?? "?"
        print("wrote \(out) (\(type), \(transformer.parameterCount) parameters, chat format \(ckpt.chatFormat.rawValue))")
    }
}
