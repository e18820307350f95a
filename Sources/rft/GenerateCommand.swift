import ArgumentParser
import Foundation
import JSON
import TransformerModel

/// `rft generate`: sample from a checkpoint (rft's or Hugging Face's).
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Sample completions from a model checkpoint.",
        discussion: """
        Each prompt is sent as a user message in the checkpoint's chat format (byte markers, ChatML or Llama-3 headers), unless --raw continues the text as is. Without --prompt, prompts are read from standard input, one per line. Decoding stops at the chat format's end-of-turn token, a --stop string, or --max-new-tokens.

        Examples:
          rft generate --model runs/sft-demo --prompt "What is 12 + 30?"
          rft generate --model runs/sft-demo --prompt "Greet Ann." -n 4 --temperature 0.8 --top-p 0.95
          printf 'hello\\nbye\\n' | rft generate --model Qwen3-0.6B --json
        """
    )

    @Option(help: "Checkpoint directory (rft or Hugging Face).")
    var model: String

    @Option(name: .long, help: "A prompt (repeat for several). Default: one per line from standard input.")
    var prompt: [String] = []

    @Option(help: "A system message sent before each prompt.")
    var system: String?

    @Flag(help: "Continue the prompt text as is, without the chat format.")
    var raw = false

    @Option(name: [.customShort("n"), .long], help: "Completions per prompt.")
    var completions: Int = 1

    @Option(help: "New tokens per completion at most.")
    var maxNewTokens: Int = 128

    @Option(help: "Sampling temperature (0: greedy).")
    var temperature: Float = 0

    @Option(help: "Keep only the K most likely tokens (0: all).")
    var topK: Int = 0

    @Option(help: "Nucleus sampling mass (1: off).")
    var topP: Float = 1

    @Option(help: "Stop a completion once its text contains this (repeatable).")
    var stop: [String] = []

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Flag(help: "Print one JSON object per completion: prompt, completion, finish_reason, tokens, token_ids.")
    var json = false

    func validate() throws {
        guard completions >= 1 else { throw ValidationError("-n must be at least 1") }
        guard maxNewTokens >= 1 else { throw ValidationError("--max-new-tokens must be at least 1") }
        guard temperature >= 0, topK >= 0, topP > 0, topP <= 1 else {
            throw ValidationError("--temperature ≥ 0, --top-k ≥ 0 and 0 < --top-p ≤ 1 are required")
        }
    }

    @OptionGroup var threads: ThreadsOption

    func run() throws {
        threads.apply()
        let ckpt = try ModelCheckpoint(directory: URL(fileURLWithPath: model))
        let transformer = try ckpt.loadTransformer()
        let template = try ckpt.chatTemplate()
        let tokenizer = ckpt.tokenizer
        var prompts = prompt
        if prompts.isEmpty {
            while let line = readLine() { if !line.isEmpty { prompts.append(line) } }
        }
        var rng = RandomGenerator(seed: seed)
        let options = SamplingOptions(maxNewTokens: maxNewTokens, temperature: temperature, topK: topK, topP: topP,
                                      eosTokenIDs: Set(template.stopTokenIDs), stopStrings: stop,
                                      decode: { tokenizer.decode($0, skipSpecial: true) })
        for text in prompts {
            let ids: [Int]
            if raw {
                ids = (tokenizer.bosID.map { [$0] } ?? []) + tokenizer.encode(text)
            } else {
                ids = try template.prompt((system.map { [ChatMessage(role: "system", content: $0)] } ?? [])
                                          + [ChatMessage(role: "user", content: text)])
            }
            guard !ids.isEmpty else { throw ValidationError("prompt \(text.debugDescription) encodes to no tokens") }
            let out = try transformer.sample(prompts: [ids], completionsPerPrompt: completions, options: options, rng: &rng)[0]
            for c in out {
                let body = tokenizer.decode(c.tokens, skipSpecial: true)
                if json {
                    let obj: JSONValue = ["prompt": .string(text), "completion": .string(body),
                                          "finish_reason": .string(c.finishReason.rawValue), "tokens": .number(Double(c.tokens.count)),
                                          "token_ids": .array(c.tokens.map { .number(Double($0)) })]
                    print(obj.jsonString(sortedKeys: true))
                } else {
                    print(completions == 1 && prompts.count == 1 ? body : "\(text) → \(body)")
                }
            }
        }
    }
}
