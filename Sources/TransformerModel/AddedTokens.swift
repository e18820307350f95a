/// A token from `tokenizer.json`'s `added_tokens`: matched literally, before BPE.
struct AddedToken {
    var content: String
    var id: Int
    /// Special tokens (EOS, role markers) are only matched when the caller asks.
    var special: Bool
    /// Whitespace to the left (right) of the token is absorbed into it.
    var lstrip: Bool
    var rstrip: Bool
}

/// Splits text at added tokens (leftmost, longest match first).
struct AddedTokenMatcher {
    enum Segment: Equatable { case text(Substring), token(Int) }

    let byContent: [String: AddedToken]
    let byID: [Int: AddedToken]
    /// Candidates by first UTF-8 byte, longest first.
    private let byFirstByte: [UInt8: [([UInt8], AddedToken)]]

    init(_ tokens: [AddedToken]) {
        var content: [String: AddedToken] = [:], ids: [Int: AddedToken] = [:]
        var first: [UInt8: [([UInt8], AddedToken)]] = [:]
        for t in tokens {
            content[t.content] = t
            ids[t.id] = t
            let bytes = Array(t.content.utf8)
            first[bytes[0], default: []].append((bytes, t))
        }
        for k in first.keys { first[k]!.sort { $0.0.count > $1.0.count } }
        byContent = content; byID = ids; byFirstByte = first
    }

    func segments(_ text: String, includeSpecial: Bool) -> [Segment] {
        guard !byFirstByte.isEmpty else { return [.text(Substring(text))] }
        let utf8 = Array(text.utf8)
        var out: [Segment] = []
        var textStart = 0, i = 0
        var stripLeading = false
        func flushText(upTo end: Int, stripTrailing: Bool) {
            var s = textStart, e = end
            if stripLeading { while s < e && Self.isSpace(utf8[s]) { s += 1 } }
            if stripTrailing { while e > s && Self.isSpace(utf8[e - 1]) { e -= 1 } }
            if e > s { out.append(.text(Substring(decoding: utf8[s..<e], as: UTF8.self))) }
        }
        while i < utf8.count {
            if let cands = byFirstByte[utf8[i]],
               let (bytes, tok) = cands.first(where: { (b, t) in
                   (includeSpecial || !t.special) && i + b.count <= utf8.count && utf8[i..<(i + b.count)].elementsEqual(b)
               }) {
                flushText(upTo: i, stripTrailing: tok.lstrip)
                out.append(.token(tok.id))
                i += bytes.count
                textStart = i
                stripLeading = tok.rstrip
            } else {
                i += 1
            }
        }
        flushText(upTo: utf8.count, stripTrailing: false)
        return out
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
}
