/// Hand-written matchers for the three standard byte-level BPE split patterns
/// (``PreTokenizerPattern``), equivalent to the regular expressions and several times faster
/// than `NSRegularExpression`. Patterns other than these use the regex.
///
/// Each works on Unicode scalars, taking at every position the first alternative of the
/// pattern that matches, with the same backtracking outcome as the regex engine.
enum KnownSplitPattern {
    case gpt2, llama3, qwen2

    init?(pattern: String) {
        switch pattern {
        case PreTokenizerPattern.gpt2: self = .gpt2
        case PreTokenizerPattern.llama3: self = .llama3
        case PreTokenizerPattern.qwen2: self = .qwen2
        default: return nil
        }
    }

    private enum Class: UInt8 { case letter, number, space, other }

    private static func classify(_ s: Unicode.Scalar) -> Class {
        if s.value < 0x80 {
            switch s.value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .space
            default: return .other
            }
        }
        let p = s.properties
        if p.isWhitespace { return .space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The pieces of `text` (the matches; the patterns leave no gaps).
    func split(_ text: Substring) -> [Substring] {
        let view = text.unicodeScalars
        let scalars = Array(view)
        let n = scalars.count
        var cls = [Class](repeating: .other, count: n)
        for i in 0..<n { cls[i] = Self.classify(scalars[i]) }
        var out: [Substring] = []
        var i = 0, index = view.startIndex
        while i < n {
            let j = self == .gpt2 ? matchGPT2(scalars, cls, i) : matchLlama(scalars, cls, i, digits: self == .llama3 ? 3 : 1)
            let end = view.index(index, offsetBy: j - i)
            // Slicing the scalar view keeps pieces that split a grapheme cluster exact.
            out.append(Substring(view[index..<end]))
            i = j; index = end
        }
        return out
    }

    private func run(_ cls: [Class], from i: Int, while c: Class) -> Int {
        var j = i
        while j < cls.count && cls[j] == c { j += 1 }
        return j
    }

    /// Length of the contraction at `i` (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`), or 0.
    private func contraction(_ s: [Unicode.Scalar], _ i: Int, caseInsensitive: Bool) -> Int {
        guard s[i] == "'", i + 1 < s.count else { return 0 }
        func at(_ k: Int, _ lower: Unicode.Scalar) -> Bool {
            guard k < s.count else { return false }
            let c = s[k]
            if c == lower { return true }
            guard caseInsensitive else { return false }
            if c.value == lower.value - 32 { return true }        // ASCII upper case
            return lower == "s" && c == "\u{17F}"                 // LATIN SMALL LETTER LONG S folds to s
        }
        if at(i + 1, "s") || at(i + 1, "t") || at(i + 1, "m") || at(i + 1, "d") { return 2 }
        if at(i + 1, "r") && at(i + 2, "e") { return 3 }
        if at(i + 1, "v") && at(i + 2, "e") { return 3 }
        if at(i + 1, "l") && at(i + 2, "l") { return 3 }
        return 0
    }

    /// The whitespace alternatives shared by all three patterns, at a whitespace scalar `i`:
    /// `\s+(?!\S)` then `\s+` (after `\s*[\r\n]+` for Llama-3/Qwen2).
    private func whitespace(_ s: [Unicode.Scalar], _ cls: [Class], _ i: Int, newlines: Bool) -> Int {
        let e = run(cls, from: i, while: .space)
        if newlines, let last = (i..<e).last(where: { s[$0] == "\r" || s[$0] == "\n" }) { return last + 1 }
        if e == s.count || e - i == 1 { return e }
        return e - 1
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    private func matchGPT2(_ s: [Unicode.Scalar], _ cls: [Class], _ i: Int) -> Int {
        let k = contraction(s, i, caseInsensitive: false)
        if k > 0 { return i + k }
        let start = s[i] == " " && i + 1 < s.count && cls[i + 1] != .space ? i + 1 : i
        switch cls[start] {
        case .letter, .number, .other: return run(cls, from: start, while: cls[start])
        case .space: return whitespace(s, cls, i, newlines: false)
        }
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    /// (Qwen2: `\p{N}` instead of `\p{N}{1,3}`).
    private func matchLlama(_ s: [Unicode.Scalar], _ cls: [Class], _ i: Int, digits: Int) -> Int {
        let k = contraction(s, i, caseInsensitive: true)
        if k > 0 { return i + k }
        let c = cls[i]
        if c == .letter { return run(cls, from: i, while: .letter) }
        if c != .number && s[i] != "\r" && s[i] != "\n" && i + 1 < s.count && cls[i + 1] == .letter {
            return run(cls, from: i + 1, while: .letter)
        }
        if c == .number { return min(run(cls, from: i, while: .number), i + digits) }
        let start = s[i] == " " && i + 1 < s.count && cls[i + 1] == .other ? i + 1 : i
        if cls[start] == .other {
            var j = run(cls, from: start, while: .other)
            while j < s.count && (s[j] == "\r" || s[j] == "\n") { j += 1 }
            return j
        }
        return whitespace(s, cls, i, newlines: true)
    }
}
