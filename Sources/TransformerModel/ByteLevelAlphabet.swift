/// GPT-2's reversible map from bytes to printable Unicode scalars.
///
/// Byte-level BPE vocabularies (GPT-2, Llama-3, Qwen2) spell every token in this
/// alphabet: printable Latin-1 bytes stand for themselves and the others are
/// shifted to U+0100 and above (a space becomes `Ġ`, a newline `Ċ`).
enum ByteLevelAlphabet {
    /// `scalars[b]` is the scalar standing for byte `b`.
    static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The inverse of ``scalars``.
    static let bytes: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (b, s) in scalars.enumerated() { map[s] = UInt8(b) }
        return map
    }()

    /// `text`'s UTF-8 bytes spelled in the byte-level alphabet.
    static func encode(_ text: Substring) -> String {
        var out = String.UnicodeScalarView()
        for b in text.utf8 { out.append(scalars[Int(b)]) }
        return String(out)
    }

    /// The bytes spelled by `token`; scalars outside the alphabet contribute their UTF-8.
    static func decode(_ token: String, into out: inout [UInt8]) {
        for s in token.unicodeScalars {
            if let b = bytes[s] { out.append(b) } else { out.append(contentsOf: String(s).utf8) }
        }
    }
}
