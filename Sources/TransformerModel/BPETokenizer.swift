import Foundation

/// A Hugging Face `tokenizer.json` byte-level BPE (the GPT-2 / Llama-3 / Qwen2 family).
///
/// Supported components: normalizer `null`/`NFC`/`NFKC`/`Sequence`; pre-tokenizers
/// `Split` (Isolated/Removed), `ByteLevel` and `Sequence`; model `BPE` with merges in
/// either the `"a b"` or the `["a", "b"]` form and `ignore_merges`; added tokens.
/// Anything else is a ``ModelIOError/unsupported(path:detail:)`` naming the component.
///
/// `encode` adds no BOS/EOS (the chat format does that). Results are cached per
/// pre-tokenized word; the tokenizer is safe to share between threads.
public final class BPETokenizer: Tokenizer, @unchecked Sendable {
    public let vocabSize: Int
    public let eosID: Int
    public let padID: Int
    public let bosID: Int?
    /// The special tokens' text, as chosen at load time (written into rft checkpoints).
    public let eosToken: String, padToken: String, bosToken: String?
    /// The `tokenizer.json` this tokenizer was built from, byte for byte.
    public let json: Data

    private let vocab: [String: Int]
    private let idToToken: [String?]
    private let merges: [UInt64: (rank: Int32, id: Int32)]
    private let byteIDs: [Int]
    /// The bytes of vocabulary token `id` are `tokenBytes[tokenOffsets[id]..<tokenOffsets[id + 1]]`.
    private let tokenBytes: [UInt8]
    private let tokenOffsets: [Int32]
    private let unkID: Int?
    private let ignoreMerges: Bool
    private let normalizer: (String) -> String
    private let steps: [PreTokenizerStep]
    private let added: AddedTokenMatcher
    private let lock = NSLock()
    /// Keyed by UTF-8 bytes: Swift string equality is canonical equivalence, which would
    /// conflate pieces such as U+212B and U+00C5 that tokenize differently.
    private var cache: [[UInt8]: [Int]] = [:]

    /// Builds the tokenizer from the contents of a `tokenizer.json`.
    ///
    /// - Parameters:
    ///   - path: the file name used in error messages.
    ///   - eos, bos, pad: the special tokens' text; when nil, common names are tried
    ///     (`<|endoftext|>`, `<|eot_id|>`, `<|end_of_text|>`, `</s>`, `<|im_end|>`) and
    ///     padding falls back to EOS.
    public init(json: Data, path: String = "tokenizer.json",
                eos: String? = nil, bos: String? = nil, pad: String? = nil) throws {
        func bad(_ d: String) -> ModelIOError { .malformed(path: path, detail: d) }
        guard let root = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw bad("not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else { throw bad("no 'model' object") }
        let type = model["type"] as? String ?? "BPE"
        guard type == "BPE" else { throw ModelIOError.unsupported(path: path, detail: "model type '\(type)' (only BPE)") }
        guard let vocabAny = model["vocab"] as? [String: Any] else { throw bad("model.vocab is not an object") }
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(vocabAny.count)
        for (k, v) in vocabAny {
            guard let id = (v as? NSNumber)?.intValue, id >= 0 else { throw bad("model.vocab['\(k)'] is not a non-negative integer") }
            vocab[k] = id
        }
        // GPT-2 and Qwen2 files carry these as empty strings, which change nothing.
        if !((model["continuing_subword_prefix"] as? String) ?? "").isEmpty || !((model["end_of_word_suffix"] as? String) ?? "").isEmpty {
            throw ModelIOError.unsupported(path: path, detail: "model.continuing_subword_prefix / end_of_word_suffix")
        }
        if (model["byte_fallback"] as? Bool) == true {
            throw ModelIOError.unsupported(path: path, detail: "model.byte_fallback (SentencePiece-style BPE)")
        }

        // Added tokens: they bypass normalization and BPE.
        var addedTokens: [AddedToken] = []
        for (i, t) in ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated() {
            guard let content = t["content"] as? String, let id = (t["id"] as? NSNumber)?.intValue, !content.isEmpty else {
                throw bad("added_tokens[\(i)] needs 'content' and 'id'")
            }
            addedTokens.append(AddedToken(content: content, id: id, special: t["special"] as? Bool ?? false,
                                          lstrip: t["lstrip"] as? Bool ?? false, rstrip: t["rstrip"] as? Bool ?? false))
        }

        var idToToken = [String?](repeating: nil, count: (vocab.values.max() ?? -1) + 1)
        for (k, id) in vocab { idToToken[id] = k }

        // Merges: rank = position in the list.
        var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
        let mergeList = model["merges"] as? [Any] ?? []
        merges.reserveCapacity(mergeList.count)
        for (rank, m) in mergeList.enumerated() {
            let pair: [String]
            if let s = m as? String {
                pair = s.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else if let a = m as? [String] {
                pair = a
            } else {
                throw bad("model.merges[\(rank)] is neither \"a b\" nor [\"a\", \"b\"]")
            }
            guard pair.count == 2 else { throw bad("model.merges[\(rank)] does not have two parts") }
            guard let a = vocab[pair[0]], let b = vocab[pair[1]], let ab = vocab[pair[0] + pair[1]] else {
                throw bad("model.merges[\(rank)] '\(pair[0]) \(pair[1])' uses a token missing from the vocabulary")
            }
            let key = UInt64(a) << 32 | UInt64(b)
            if merges[key] == nil { merges[key] = (Int32(rank), Int32(ab)) }
        }

        self.normalizer = try Self.parseNormalizer(root["normalizer"], path: path)
        self.steps = try Self.parsePreTokenizer(root["pre_tokenizer"], path: path)
        if let dec = root["decoder"] as? [String: Any], let t = dec["type"] as? String, t != "ByteLevel" {
            throw ModelIOError.unsupported(path: path, detail: "decoder type '\(t)' (only ByteLevel)")
        }

        self.byteIDs = ByteLevelAlphabet.scalars.map { vocab[String($0)] ?? -1 }
        self.unkID = (model["unk_token"] as? String).flatMap { vocab[$0] }
        self.ignoreMerges = model["ignore_merges"] as? Bool ?? false
        self.vocab = vocab
        self.merges = merges
        for t in addedTokens {
            if t.id >= idToToken.count { idToToken += [String?](repeating: nil, count: t.id + 1 - idToToken.count) }
        }
        self.idToToken = idToToken
        var bytes: [UInt8] = [], offsets: [Int32] = [0]
        offsets.reserveCapacity(idToToken.count + 1)
        for tok in idToToken {
            if let tok { ByteLevelAlphabet.decode(tok, into: &bytes) }
            offsets.append(Int32(bytes.count))
        }
        self.tokenBytes = bytes
        self.tokenOffsets = offsets
        let added = AddedTokenMatcher(addedTokens)
        self.added = added
        self.vocabSize = idToToken.count
        self.json = json

        func lookup(_ name: String) -> Int? { added.byContent[name]?.id ?? vocab[name] }
        let eosName: String
        if let eos {
            guard lookup(eos) != nil else { throw bad("EOS token '\(eos)' is not in the vocabulary") }
            eosName = eos
        } else {
            guard let n = ["<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>", "<|im_end|>"].first(where: { lookup($0) != nil }) else {
                throw bad("no EOS token: give one in tokenizer_config.json (eos_token)")
            }
            eosName = n
        }
        if let bos, lookup(bos) == nil { throw bad("BOS token '\(bos)' is not in the vocabulary") }
        if let pad, lookup(pad) == nil { throw bad("pad token '\(pad)' is not in the vocabulary") }
        self.eosToken = eosName
        self.eosID = lookup(eosName)!
        self.bosToken = bos
        self.bosID = bos.flatMap(lookup)
        self.padToken = pad ?? eosName
        self.padID = lookup(pad ?? eosName)!
    }

    /// Loads `tokenizer.json` from `directory`, taking the EOS/BOS/pad tokens from
    /// `tokenizer_config.json` when it exists.
    public static func load(directory: URL) throws -> BPETokenizer {
        let file = directory.appendingPathComponent("tokenizer.json")
        let data = try ModelIOError.read(file)
        var eos: String?, bos: String?, pad: String?
        let configFile = directory.appendingPathComponent("tokenizer_config.json")
        if let cdata = try? Data(contentsOf: configFile) {
            guard let config = try? JSONSerialization.jsonObject(with: cdata) as? [String: Any] else {
                throw ModelIOError.malformed(path: configFile.path, detail: "not a JSON object")
            }
            func name(_ key: String) -> String? {
                if let s = config[key] as? String { return s }
                return (config[key] as? [String: Any])?["content"] as? String
            }
            eos = name("eos_token"); pad = name("pad_token")
            // Llama-3 configs name a BOS; Qwen's set it to null.
            bos = name("bos_token")
        }
        return try BPETokenizer(json: data, path: file.path, eos: eos, bos: bos, pad: pad)
    }

    public func specialTokenID(_ content: String) -> Int? { added.byContent[content]?.id ?? vocab[content] }

    /// The vocabulary string of `id` (byte-level alphabet), or an added token's content.
    public func token(_ id: Int) -> String? {
        if let t = added.byID[id] { return t.content }
        return id >= 0 && id < idToToken.count ? idToToken[id] : nil
    }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int] {
        var ids: [Int] = []
        for segment in added.segments(text, includeSpecial: parseSpecial) {
            switch segment {
            case let .token(id): ids.append(id)
            case let .text(t): encodeText(t, into: &ids)
            }
        }
        return ids
    }

    public func decodeBytes(_ ids: [Int], skipSpecial: Bool) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids {
            if let t = added.byID[id] {
                if !(skipSpecial && t.special) { out.append(contentsOf: t.content.utf8) }
            } else if id >= 0 && id < idToToken.count {
                out.append(contentsOf: tokenBytes[Int(tokenOffsets[id])..<Int(tokenOffsets[id + 1])])
            }
        }
        return out
    }

    private func encodeText(_ text: Substring, into ids: inout [Int]) {
        let normalized = Substring(normalizer(String(text)))
        var pieces = [normalized]
        for step in steps { pieces = step.apply(pieces) }
        for piece in pieces where !piece.isEmpty { ids.append(contentsOf: bpe(piece)) }
    }

    /// Byte-level BPE of one pre-tokenized word.
    private func bpe(_ word: Substring) -> [Int] {
        let key = Array(word.utf8)
        lock.lock()
        if let hit = cache[key] { lock.unlock(); return hit }
        lock.unlock()
        var symbols: [Int]
        if ignoreMerges, let id = vocab[ByteLevelAlphabet.encode(word)] {
            symbols = [id]
        } else {
            symbols = []
            symbols.reserveCapacity(key.count)
            for b in key {
                let id = byteIDs[Int(b)]
                if id >= 0 { symbols.append(id) } else if let unkID { symbols.append(unkID) }
            }
            while symbols.count > 1 {
                var best: (rank: Int32, id: Int32) = (.max, 0)
                var bestKey: UInt64 = 0
                for i in 0..<(symbols.count - 1) {
                    let key = UInt64(symbols[i]) << 32 | UInt64(symbols[i + 1])
                    if let m = merges[key], m.rank < best.rank { best = m; bestKey = key }
                }
                if best.rank == .max { break }
                let a = Int(bestKey >> 32), b = Int(bestKey & 0xFFFF_FFFF)
                var merged: [Int] = []
                merged.reserveCapacity(symbols.count)
                var i = 0
                while i < symbols.count {
                    if i + 1 < symbols.count && symbols[i] == a && symbols[i + 1] == b {
                        merged.append(Int(best.id)); i += 2
                    } else {
                        merged.append(symbols[i]); i += 1
                    }
                }
                symbols = merged
            }
        }
        guard key.count <= 256 else { return symbols }   // long pieces are rare; don't cache them
        lock.lock()
        if cache.count > 200_000 { cache.removeAll(keepingCapacity: true) }
        cache[key] = symbols
        lock.unlock()
        return symbols
    }

    private static func parseNormalizer(_ any: Any?, path: String) throws -> (String) -> String {
        guard let n = any as? [String: Any] else { return { $0 } }
        switch n["type"] as? String {
        case "NFC":
            // Text whose scalars are all below U+0300 is already NFC (NFC_Quick_Check = Yes).
            return { s in s.unicodeScalars.allSatisfy { $0.value < 0x300 } ? s : s.precomposedStringWithCanonicalMapping }
        case "NFKC": return { $0.precomposedStringWithCompatibilityMapping }
        case "Sequence":
            let parts = try ((n["normalizers"] as? [Any]) ?? []).map { try parseNormalizer($0, path: path) }
            return { s in parts.reduce(s) { $1($0) } }
        case let t:
            throw ModelIOError.unsupported(path: path, detail: "normalizer '\(t ?? "?")'")
        }
    }

    private static func parsePreTokenizer(_ any: Any?, path: String) throws -> [PreTokenizerStep] {
        guard let p = any as? [String: Any] else { return [] }
        func regex(_ pattern: String) throws -> NSRegularExpression {
            do { return try NSRegularExpression(pattern: pattern) } catch {
                throw ModelIOError.unsupported(path: path, detail: "pre_tokenizer pattern \(pattern) does not compile")
            }
        }
        switch p["type"] as? String {
        case "Sequence":
            return try ((p["pretokenizers"] as? [Any]) ?? []).flatMap { try parsePreTokenizer($0, path: path) }
        case "ByteLevel":
            let useRegex = p["use_regex"] as? Bool ?? true
            return [.byteLevel(addPrefixSpace: p["add_prefix_space"] as? Bool ?? false, gpt2Split: useRegex)]
        case "Split":
            let pat = p["pattern"] as? [String: Any]
            let source: String
            if let r = pat?["Regex"] as? String { source = r }
            else if let s = pat?["String"] as? String { source = NSRegularExpression.escapedPattern(for: s) }
            else { throw ModelIOError.malformed(path: path, detail: "pre_tokenizer Split has no pattern") }
            if (p["invert"] as? Bool) == true {
                throw ModelIOError.unsupported(path: path, detail: "pre_tokenizer Split with invert")
            }
            switch p["behavior"] as? String {
            case "Isolated":
                if pat?["Regex"] != nil, let known = KnownSplitPattern(pattern: source) { return [.known(known)] }
                return [.split(try regex(source), keepGaps: true)]
            case "Removed": return [.split(try regex(source), keepGaps: false)]
            case let b: throw ModelIOError.unsupported(path: path, detail: "pre_tokenizer Split behavior '\(b ?? "?")'")
            }
        case let t:
            throw ModelIOError.unsupported(path: path, detail: "pre_tokenizer '\(t ?? "?")'")
        }
    }
}
