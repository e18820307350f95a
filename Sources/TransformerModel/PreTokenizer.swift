import Foundation

/// The pre-tokenization split patterns of the byte-level BPE families.
public enum PreTokenizerPattern {
    /// GPT-2's pattern (also used by `ByteLevel` with `use_regex: true`).
    public static let gpt2 =
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    /// Llama-3's pattern (numbers in groups of up to three digits).
    public static let llama3 =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    /// Qwen2's pattern (one digit per piece).
    public static let qwen2 =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
}

/// One step of a Hugging Face pre-tokenizer pipeline (the subset byte-level BPE uses).
enum PreTokenizerStep {
    /// `Split` with `behavior: Isolated` (matches and the text between them become pieces)
    /// or `Removed` (the text between matches is dropped).
    case split(NSRegularExpression, keepGaps: Bool)
    /// `Split` (Isolated) with one of the standard patterns, matched without a regex engine.
    case known(KnownSplitPattern)
    /// `ByteLevel`: optionally prefix a space, optionally split with GPT-2's pattern.
    /// The mapping to the byte-level alphabet happens after the whole pipeline.
    case byteLevel(addPrefixSpace: Bool, gpt2Split: Bool)

    /// Applies this step to each piece.
    func apply(_ pieces: [Substring]) -> [Substring] {
        switch self {
        case let .split(regex, keepGaps):
            return pieces.flatMap { Self.split($0, regex, keepGaps: keepGaps) }
        case let .known(pattern):
            return pieces.flatMap { pattern.split($0) }
        case let .byteLevel(addPrefixSpace, gpt2Split):
            return pieces.flatMap { piece -> [Substring] in
                let p = addPrefixSpace && !piece.hasPrefix(" ") ? Substring(" " + piece) : piece
                return gpt2Split ? KnownSplitPattern.gpt2.split(p) : [p]
            }
        }
    }

    /// Splits `text` at `regex`'s matches: matches are pieces; gaps are pieces when `keepGaps`.
    static func split(_ text: Substring, _ regex: NSRegularExpression, keepGaps: Bool) -> [Substring] {
        let s = String(text)
        let ns = s as NSString
        var out: [Substring] = []
        var last = 0
        regex.enumerateMatches(in: s, range: NSRange(location: 0, length: ns.length)) { m, _, _ in
            guard let r = m?.range, r.length > 0 else { return }
            if keepGaps && r.location > last {
                out.append(Substring(ns.substring(with: NSRange(location: last, length: r.location - last))))
            }
            out.append(Substring(ns.substring(with: r)))
            last = r.location + r.length
        }
        if keepGaps && last < ns.length { out.append(Substring(ns.substring(from: last))) }
        return out
    }
}
