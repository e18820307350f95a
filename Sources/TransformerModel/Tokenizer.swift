/// Turns text into token ids and back.
///
/// Two variants exist: ``ByteTokenizer`` (the default for small models trained
/// from scratch) and ``BPETokenizer`` (a Hugging Face `tokenizer.json`
/// byte-level BPE, for real checkpoints).
public protocol Tokenizer: Sendable {
    /// Number of ids this tokenizer can produce (the largest id + 1).
    var vocabSize: Int { get }
    /// End-of-text id: sampling stops here, and SFT appends it after plain text.
    var eosID: Int { get }
    /// Id used to pad batches (never trained on).
    var padID: Int { get }
    /// Beginning-of-sequence id, if the tokenizer's family uses one (Llama-3 does).
    var bosID: Int? { get }

    /// Encodes `text`. With `parseSpecial`, special tokens written literally in the
    /// text (such as `<|im_end|>`) become their ids, as Hugging Face's `encode` does;
    /// without it they are encoded as ordinary text, so user content cannot forge them.
    func encode(_ text: String, parseSpecial: Bool) -> [Int]

    /// The raw bytes of `ids`; special tokens contribute their literal text unless
    /// `skipSpecial`. Ids outside the vocabulary are skipped.
    func decodeBytes(_ ids: [Int], skipSpecial: Bool) -> [UInt8]

    /// The id of a special or added token written as `content` (e.g. `"<|im_end|>"`).
    func specialTokenID(_ content: String) -> Int?
}

extension Tokenizer {
    /// Encodes `text` as plain text (special-token markup is not interpreted).
    public func encode(_ text: String) -> [Int] { encode(text, parseSpecial: false) }

    /// Decodes `ids` to a string; byte sequences that are not valid UTF-8 (a token
    /// split in the middle of a character) become U+FFFD.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self)
    }
}
