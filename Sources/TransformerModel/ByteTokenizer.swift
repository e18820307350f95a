/// The default tokenizer for small models: one id per UTF-8 byte, plus four specials.
///
/// | id | token |
/// | --- | --- |
/// | 0–255 | the byte itself |
/// | 256 | `<|endoftext|>` (EOS; also ends every chat turn) |
/// | 257 | `<|user|>` (starts a user turn) |
/// | 258 | `<|assistant|>` (starts an assistant turn) |
/// | 259 | `<|pad|>` (padding, never trained on) |
///
/// Its vocabulary of 260 matches ``ModelConfig/ref1m``. Encoding never fails and
/// decoding returns the exact bytes that were encoded.
public struct ByteTokenizer: Tokenizer, Equatable {
    public static let endOfText = 256
    public static let user = 257
    public static let assistant = 258
    public static let pad = 259
    /// Special tokens, in id order starting at 256.
    public static let specials = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|pad|>"]

    public init() {}

    public var vocabSize: Int { 260 }
    public var eosID: Int { Self.endOfText }
    public var padID: Int { Self.pad }
    public var bosID: Int? { nil }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int] {
        guard parseSpecial else { return text.utf8.map { Int($0) } }
        var ids: [Int] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.first == "<",
               let (i, s) = Self.specials.enumerated().first(where: { rest.hasPrefix($0.element) }) {
                ids.append(256 + i)
                rest = rest.dropFirst(s.count)
            } else {
                let c = rest.first!
                ids.append(contentsOf: String(c).utf8.map { Int($0) })
                rest = rest.dropFirst()
            }
        }
        return ids
    }

    public func decodeBytes(_ ids: [Int], skipSpecial: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count)
        for id in ids {
            if id >= 0 && id < 256 { out.append(UInt8(id)) }
            else if id >= 256 && id < 260 && !skipSpecial { out.append(contentsOf: Self.specials[id - 256].utf8) }
        }
        return out
    }

    public func specialTokenID(_ content: String) -> Int? {
        Self.specials.firstIndex(of: content).map { 256 + $0 }
    }
}
