/// One chat message (OpenAI / Bedrock chat roles).
public struct ChatMessage: Codable, Equatable, Sendable {
    /// `system`, `user` or `assistant` (`developer` is read as `system`).
    public var role: String
    public var content: String
    /// OpenAI fine-tuning's per-message `weight`: an assistant message with weight 0 is
    /// context only (not trained on). nil means 1.
    public var weight: Int?
    public init(role: String, content: String, weight: Int? = nil) {
        self.role = role; self.content = content; self.weight = weight
    }
    /// Whether SFT trains on this message (assistant messages whose weight is not 0).
    public var isTrained: Bool { role == "assistant" && weight != 0 }
}

/// A rendered conversation: token ids and which of them SFT trains on.
public struct ChatTokens: Equatable, Sendable {
    public var tokens: [Int]
    /// `lossMask[i]` is true when `tokens[i]` is an assistant token the model should learn
    /// to produce from the tokens before it: assistant content and its end-of-turn token.
    public var lossMask: [Bool]
    public var trainedCount: Int { lossMask.lazy.filter { $0 }.count }
}

/// An error in a conversation that cannot be rendered.
public enum ChatFormatError: Error, Equatable, CustomStringConvertible {
    /// `index` is the message's position in the conversation.
    case unsupportedRole(index: Int, role: String)
    case missingSpecialToken(format: String, token: String)

    public var description: String {
        switch self {
        case let .unsupportedRole(i, role): return "messages[\(i)].role '\(role)' is not system, user or assistant"
        case let .missingSpecialToken(f, t): return "chat format \(f) needs the special token \(t), which the tokenizer lacks"
        }
    }
}

/// How a conversation is laid out as tokens.
///
/// - `byte`: rft's format for ``ByteTokenizer``:
///   `<|user|>` text `<|endoftext|>` `<|assistant|>` text `<|endoftext|>` …
///   A system message is prepended to the next user message, separated by a blank line.
/// - `chatml`: Qwen's `<|im_start|>role\ncontent<|im_end|>\n`.
/// - `llama3`: `<|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>`
///   (content trimmed, as Llama-3's own template does).
/// - `plain`: for tokenizers without role markers: `User:\ncontent\n\n`, then
///   `Assistant:\ncontent` followed by EOS and a blank line.
public enum ChatFormat: String, Codable, Sendable, CaseIterable {
    case byte, chatml, llama3, plain

    /// The format a checkpoint's tokenizer implies: its own role markers when present.
    public static func detect(_ tokenizer: any Tokenizer) -> ChatFormat {
        if tokenizer is ByteTokenizer { return .byte }
        let has = { (s: String) in tokenizer.specialTokenID(s) != nil }
        if has("<|user|>") && has("<|assistant|>") { return .byte }   // rft's byte markers, exported
        if has("<|im_start|>") && has("<|im_end|>") { return .chatml }
        if has("<|start_header_id|>") && has("<|end_header_id|>") && has("<|eot_id|>") { return .llama3 }
        return .plain
    }
}

/// Renders chat messages into tokens with a tokenizer's chat format.
///
/// Special tokens come only from the format: message text is encoded with
/// `parseSpecial: false`, so a user cannot inject role markers.
public struct ChatTemplate: Sendable {
    public let format: ChatFormat
    public let tokenizer: any Tokenizer
    /// Token ids that end an assistant turn (sampling stops at any of them).
    public let stopTokenIDs: [Int]
    private let specials: [String: Int]

    /// - Throws: ``ChatFormatError/missingSpecialToken(format:token:)`` when `format`
    ///   needs a token the tokenizer lacks.
    public init(tokenizer: any Tokenizer, format: ChatFormat? = nil) throws {
        let format = format ?? ChatFormat.detect(tokenizer)
        let needed: [String]
        switch format {
        case .byte: needed = ["<|user|>", "<|assistant|>"]
        case .chatml: needed = ["<|im_start|>", "<|im_end|>"]
        case .llama3: needed = ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
        case .plain: needed = []
        }
        var specials: [String: Int] = [:]
        for name in needed {
            guard let id = tokenizer.specialTokenID(name) else {
                throw ChatFormatError.missingSpecialToken(format: format.rawValue, token: name)
            }
            specials[name] = id
        }
        self.format = format
        self.tokenizer = tokenizer
        self.specials = specials
        var stops = [tokenizer.eosID]
        switch format {
        case .chatml: stops.insert(specials["<|im_end|>"]!, at: 0)
        case .llama3: stops.insert(specials["<|eot_id|>"]!, at: 0)
        case .byte, .plain: break
        }
        var seen = Set<Int>()
        self.stopTokenIDs = stops.filter { seen.insert($0).inserted }
    }

    /// The prompt for the next assistant turn: `messages` followed by the assistant header.
    public func prompt(_ messages: [ChatMessage]) throws -> [Int] {
        var out = Builder()
        try render(messages, into: &out)
        appendAssistantHeader(into: &out)
        return out.tokens
    }

    /// The whole conversation, with the loss mask set on assistant content and end-of-turn tokens.
    public func conversation(_ messages: [ChatMessage]) throws -> ChatTokens {
        var out = Builder()
        try render(messages, into: &out)
        return ChatTokens(tokens: out.tokens, lossMask: out.mask)
    }

    private struct Builder {
        var tokens: [Int] = []
        var mask: [Bool] = []
        mutating func add(_ ids: [Int], trained: Bool = false) {
            tokens += ids
            mask += [Bool](repeating: trained, count: ids.count)
        }
    }

    private func text(_ s: String) -> [Int] { tokenizer.encode(s, parseSpecial: false) }

    private func appendAssistantHeader(into out: inout Builder) {
        switch format {
        case .byte: out.add([specials["<|assistant|>"]!])
        case .chatml: out.add([specials["<|im_start|>"]!] + text("assistant\n"))
        case .llama3: out.add([specials["<|start_header_id|>"]!] + text("assistant") + [specials["<|end_header_id|>"]!] + text("\n\n"))
        case .plain: out.add(text("Assistant:\n"))
        }
    }

    private func render(_ messages: [ChatMessage], into out: inout Builder) throws {
        if format == .llama3, let bos = tokenizer.bosID { out.add([bos]) }
        var pendingSystem: String?
        for (i, m) in messages.enumerated() {
            let role = m.role == "developer" ? "system" : m.role
            guard ["system", "user", "assistant"].contains(role) else {
                throw ChatFormatError.unsupportedRole(index: i, role: m.role)
            }
            switch format {
            case .byte:
                if role == "system" {
                    pendingSystem = pendingSystem.map { $0 + "\n\n" + m.content } ?? m.content
                } else if role == "user" {
                    let content = pendingSystem.map { $0 + "\n\n" + m.content } ?? m.content
                    pendingSystem = nil
                    out.add([specials["<|user|>"]!] + text(content) + [tokenizer.eosID])
                } else {
                    if let s = pendingSystem { out.add([specials["<|user|>"]!] + text(s) + [tokenizer.eosID]); pendingSystem = nil }
                    out.add([specials["<|assistant|>"]!])
                    out.add(text(m.content) + [tokenizer.eosID], trained: m.isTrained)
                }
            case .chatml:
                let end = specials["<|im_end|>"]!
                out.add([specials["<|im_start|>"]!] + text(role + "\n"))
                out.add(text(m.content), trained: m.isTrained)
                out.add([end], trained: m.isTrained)
                out.add(text("\n"))
            case .llama3:
                out.add([specials["<|start_header_id|>"]!] + text(role) + [specials["<|end_header_id|>"]!] + text("\n\n"))
                out.add(text(m.content.trimmingWhitespace()) + [specials["<|eot_id|>"]!], trained: m.isTrained)
            case .plain:
                switch role {
                case "assistant":
                    out.add(text("Assistant:\n"))
                    out.add(text(m.content) + [tokenizer.eosID], trained: m.isTrained)
                    out.add(text("\n\n"))
                case "user": out.add(text("User:\n" + m.content + "\n\n"))
                default: out.add(text("System:\n" + m.content + "\n\n"))
                }
            }
        }
        if let s = pendingSystem { out.add([specials["<|user|>"]!] + text(s) + [tokenizer.eosID]) }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }
}
