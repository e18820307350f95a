import Foundation
import JSON

extension Sample {
    /// The common case of a batch request body, read without building JSON trees: a JSON list of
    /// objects, each with a unique string `"id"` at its top level. Each sample's ``encoded`` bytes are
    /// its slice of `body` with whitespace removed, which equals what `JSONValue.object(record).jsonBytes()`
    /// writes because anything the writer would spell differently is refused: escapes other than
    /// `\"` `\\` `\n` `\r` `\t`, numbers other than plain integers of up to 15 digits, `-0`, duplicate keys,
    /// objects of more than 32 keys, ids with escapes, numeric or missing ids, duplicate ids.
    ///
    /// Returns nil for anything else, including every malformed body; the caller then takes the general
    /// path (``JSONValue/parse(_:allowNonFinite:)`` and ``Sample/init(record:defaultID:)``), which also
    /// words the errors, so results and errors are the same either way.
    package static func scanList(_ body: UnsafeRawBufferPointer) -> [Sample]? {
        guard let base = body.baseAddress, body.count > 0 else { return nil }
        let buf = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: body.count)
        var s = SampleListScanner(buf: buf)
        return s.list()
    }
}

private struct SampleListScanner {
    let buf: UnsafeBufferPointer<UInt8>
    var i = 0
    var sawNonASCII = false
    var sawSpace = false

    init(buf: UnsafeBufferPointer<UInt8>) { self.buf = buf }

    mutating func ws() {
        while i < buf.count {
            switch buf[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1; sawSpace = true
            default: return
            }
        }
    }

    mutating func list() -> [Sample]? {
        ws()
        guard i < buf.count, buf[i] == UInt8(ascii: "[") else { return nil }
        i += 1
        var items: [(whole: Range<Int>, id: Range<Int>, spaced: Bool)] = []
        ws()
        if i < buf.count, buf[i] == UInt8(ascii: "]") {
            i += 1
        } else {
            while true {
                ws()
                guard i < buf.count, buf[i] == UInt8(ascii: "{") else { return nil }
                sawSpace = false
                let start = i
                var id: Range<Int>?
                guard object(depth: 1, id: &id), let id else { return nil }
                items.append((start..<i, id, sawSpace))
                ws()
                guard i < buf.count else { return nil }
                if buf[i] == UInt8(ascii: ",") { i += 1; continue }
                if buf[i] == UInt8(ascii: "]") { i += 1; break }
                return nil
            }
        }
        ws()
        guard i == buf.count else { return nil }
        // JSON outside strings is ASCII, so the whole body is valid UTF-8 exactly when every string is.
        if sawNonASCII, String(validating: buf, as: UTF8.self) == nil { return nil }
        var seen = Set<String>(minimumCapacity: items.count)
        var samples: [Sample] = []
        samples.reserveCapacity(items.count)
        for item in items {
            let id = String(decoding: UnsafeBufferPointer(rebasing: buf[item.id]), as: UTF8.self)
            guard seen.insert(id).inserted else { return nil }
            let slice = UnsafeBufferPointer(rebasing: buf[item.whole])
            samples.append(Sample(id: id, encoded: item.spaced ? Self.compacted(slice) : Array(slice)))
        }
        return samples
    }

    /// `bytes` without whitespace outside strings (strings hold no raw control characters here).
    static func compacted(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var inString = false, escaped = false
        for c in bytes {
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
            } else if c == 0x22 {
                inString = true
            } else if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
                continue
            }
            out.append(c)
        }
        return out
    }

    mutating func value(depth: Int) -> Bool {
        guard depth < JSONValue.maxDepth, i < buf.count else { return false }
        switch buf[i] {
        case UInt8(ascii: "{"):
            var unused: Range<Int>?
            return object(depth: depth, id: &unused)
        case UInt8(ascii: "["): return array(depth: depth)
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return integer()
        default: return false
        }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= buf.count else { return false }
        let w = word.utf8Start
        for k in 0..<n where buf[i + k] != w[k] { return false }
        i += n
        return true
    }

    /// A plain integer the writer spells the same way: no fraction, exponent, leading zero or `-0`.
    mutating func integer() -> Bool {
        var negative = false
        if buf[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        let start = i
        while i < buf.count, buf[i] >= 0x30, buf[i] <= 0x39 { i += 1 }
        let n = i - start
        guard n > 0, n <= 15 else { return false }
        if buf[start] == 0x30, n > 1 || negative { return false }
        if i < buf.count, buf[i] == UInt8(ascii: ".") || buf[i] == UInt8(ascii: "e") || buf[i] == UInt8(ascii: "E") { return false }
        return true
    }

    /// The content range of the string at `i`, and whether it holds escapes; nil when it holds one
    /// the writer would spell differently, a control character, or is unterminated.
    mutating func string() -> (Range<Int>, Bool)? {
        i += 1
        let start = i
        var escapes = false
        while i < buf.count {
            let c = buf[i]
            if c == 0x22 {
                i += 1
                return (start..<(i - 1), escapes)
            }
            if c < 0x20 { return nil }
            if c >= 0x80 { sawNonASCII = true }
            if c == 0x5C {
                escapes = true
                i += 1
                guard i < buf.count else { return nil }
                switch buf[i] {
                case 0x22, 0x5C, UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"): break
                default: return nil
                }
            }
            i += 1
        }
        return nil
    }

    /// An object; at depth 1 (a sample) its `"id"` must be a string without escapes, returned in `id`.
    mutating func object(depth: Int, id: inout Range<Int>?) -> Bool {
        guard depth < JSONValue.maxDepth else { return false }
        i += 1
        ws()
        if i < buf.count, buf[i] == UInt8(ascii: "}") { i += 1; return true }
        return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: 32) { keys -> Bool in
            var count = 0
            while true {
                ws()
                guard i < buf.count, buf[i] == UInt8(ascii: "\"") else { return false }
                guard let (key, escaped) = string(), !escaped, count < 32 else { return false }
                for k in 0..<count where keys[k].count == key.count {
                    if memcmp(buf.baseAddress! + keys[k].lowerBound, buf.baseAddress! + key.lowerBound, key.count) == 0 { return false }
                }
                keys[count] = key
                count += 1
                ws()
                guard i < buf.count, buf[i] == UInt8(ascii: ":") else { return false }
                i += 1
                ws()
                let isID = depth == 1 && key.count == 2 && buf[key.lowerBound] == UInt8(ascii: "i") && buf[key.lowerBound + 1] == UInt8(ascii: "d")
                if isID {
                    guard i < buf.count, buf[i] == UInt8(ascii: "\""), let (value, escaped) = string(), !escaped else { return false }
                    id = value
                } else {
                    guard value(depth: depth + 1) else { return false }
                }
                ws()
                guard i < buf.count else { return false }
                if buf[i] == UInt8(ascii: ",") { i += 1; continue }
                if buf[i] == UInt8(ascii: "}") { i += 1; return true }
                return false
            }
        }
    }

    mutating func array(depth: Int) -> Bool {
        i += 1
        ws()
        if i < buf.count, buf[i] == UInt8(ascii: "]") { i += 1; return true }
        while true {
            ws()
            guard value(depth: depth + 1) else { return false }
            ws()
            guard i < buf.count else { return false }
            if buf[i] == UInt8(ascii: ",") { i += 1; continue }
            if buf[i] == UInt8(ascii: "]") { i += 1; return true }
            return false
        }
    }
}
