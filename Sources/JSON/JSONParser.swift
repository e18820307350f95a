extension JSONValue {
    /// The deepest nesting ``parse(_:allowNonFinite:)`` accepts.
    public static let maxDepth = 512

    /// Parses one JSON document from UTF-8 bytes.
    ///
    /// - Parameter allowNonFinite: accept the `NaN`, `Infinity` and `-Infinity` tokens Python's `json`
    ///   module writes, so a grader returning `float("nan")` gets a per-sample "not finite" error
    ///   instead of failing the whole batch.
    /// - Throws: ``JSONParseError`` with the byte offset, line and column, and a ``JSONParseError/Reason``
    ///   (invalid UTF-8, control characters, nesting deeper than ``maxDepth``, trailing data, ...).
    @inlinable
    public static func parse<C: Collection>(_ bytes: C, allowNonFinite: Bool = false) throws -> JSONValue
    where C.Element == UInt8 {
        // Arrays, slices and Data are parsed in place; other collections are copied once.
        if let v = try bytes.withContiguousStorageIfAvailable({ try parse(buffer: $0, allowNonFinite: allowNonFinite) }) {
            return v
        }
        return try Array(bytes).withUnsafeBufferPointer { try parse(buffer: $0, allowNonFinite: allowNonFinite) }
    }

    /// Parses one JSON document from the UTF-8 bytes in `buffer` (the non-generic core of ``parse(_:allowNonFinite:)``).
    public static func parse(buffer: UnsafeBufferPointer<UInt8>, allowNonFinite: Bool = false) throws -> JSONValue {
        var p = JSONByteParser(buf: buffer, allowNonFinite: allowNonFinite)
        p.skipWhitespace()
        let v = try p.value(depth: 0)
        p.skipWhitespace()
        if p.i != buffer.count { throw p.error(.trailingData) }
        return v
    }

    /// Parses one JSON document from a string.
    public static func parse(_ text: String, allowNonFinite: Bool = false) throws -> JSONValue {
        try parse(text.utf8, allowNonFinite: allowNonFinite)
    }
}

/// The recursive-descent parser over one contiguous buffer; `i` is the offset of the next byte.
private struct JSONByteParser {
    let buf: UnsafeBufferPointer<UInt8>
    let allowNonFinite: Bool
    var i = 0

    init(buf: UnsafeBufferPointer<UInt8>, allowNonFinite: Bool) {
        self.buf = buf
        self.allowNonFinite = allowNonFinite
    }

    /// The error for `reason` at the current offset, with its line and column (counted only when failing).
    func error(_ reason: JSONParseError.Reason) -> JSONParseError {
        var line = 1, column = 1
        for k in 0..<min(i, buf.count) {
            if buf[k] == UInt8(ascii: "\n") { line += 1; column = 1 }
            else if buf[k] & 0xC0 != 0x80 { column += 1 }  // count characters, not UTF-8 continuation bytes
        }
        return JSONParseError(reason, offset: i, line: line, column: column)
    }

    mutating func skipWhitespace() {
        while i < buf.count {
            switch buf[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard depth < JSONValue.maxDepth else { throw error(.nestedTooDeep(limit: JSONValue.maxDepth)) }
        guard i < buf.count else { throw error(.unexpectedEnd(inside: nil)) }
        switch buf[i] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "N") where allowNonFinite: try literal("NaN"); return .number(.nan)
        case UInt8(ascii: "I") where allowNonFinite: try literal("Infinity"); return .number(.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error(.unexpectedByte(buf[i]))
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= buf.count else { throw error(.unexpectedEnd(inside: nil)) }
        let w = word.utf8Start
        for k in 0..<n where buf[i + k] != w[k] { throw error(.invalidLiteral(expected: "\(word)")) }
        i += n
    }

    mutating func object(depth: Int) throws -> JSONValue {
        i += 1
        var obj = JSONObject()
        skipWhitespace()
        if i < buf.count, buf[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
        while true {
            skipWhitespace()
            guard i < buf.count, buf[i] == UInt8(ascii: "\"") else { throw error(.expected("a string key in object")) }
            let key = try string()
            skipWhitespace()
            guard i < buf.count, buf[i] == UInt8(ascii: ":") else { throw error(.expected("':' after object key")) }
            i += 1
            skipWhitespace()
            obj.appendParsed(key, try value(depth: depth + 1))
            skipWhitespace()
            guard i < buf.count else { throw error(.unexpectedEnd(inside: "object")) }
            if buf[i] == UInt8(ascii: ",") { i += 1; continue }
            if buf[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
            throw error(.expected("',' or '}' in object"))
        }
    }

    mutating func array(depth: Int) throws -> JSONValue {
        i += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if i < buf.count, buf[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            guard i < buf.count else { throw error(.unexpectedEnd(inside: "array")) }
            if buf[i] == UInt8(ascii: ",") { i += 1; continue }
            if buf[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw error(.expected("',' or ']' in array"))
        }
    }

    mutating func number() throws -> Double {
        let start = i
        if buf[i] == UInt8(ascii: "-") {
            i += 1
            if allowNonFinite, i < buf.count, buf[i] == UInt8(ascii: "I") { try literal("Infinity"); return -.infinity }
        }
        func digits(_ p: inout JSONByteParser) -> Int {
            let s = p.i
            while p.i < p.buf.count, p.buf[p.i] >= 0x30, p.buf[p.i] <= 0x39 { p.i += 1 }
            return p.i - s
        }
        func invalid(_ p: JSONByteParser) -> JSONParseError {
            let end = min(p.i + 1, p.buf.count)  // include the offending byte, if any
            return p.error(.invalidNumber(text: String(decoding: UnsafeBufferPointer(rebasing: p.buf[start..<end]), as: UTF8.self)))
        }
        guard digits(&self) > 0 else { throw invalid(self) }
        if i < buf.count, buf[i] == UInt8(ascii: ".") {
            i += 1
            guard digits(&self) > 0 else { throw invalid(self) }
        }
        if i < buf.count, buf[i] == UInt8(ascii: "e") || buf[i] == UInt8(ascii: "E") {
            i += 1
            if i < buf.count, buf[i] == UInt8(ascii: "+") || buf[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw invalid(self) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<i]), as: UTF8.self)
        guard let d = Double(text) else { throw error(.invalidNumber(text: text)) }
        return d
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= buf.count else { throw error(.invalidEscape("truncated \\u escape")) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = buf[i]
            v <<= 4
            switch c {
            case 0x30...0x39: v |= UInt32(c - 0x30)
            case 0x41...0x46: v |= UInt32(c - 0x41 + 10)
            case 0x61...0x66: v |= UInt32(c - 0x61 + 10)
            default: throw error(.invalidEscape("non-hex digit in \\u escape"))
            }
            i += 1
        }
        return v
    }

    mutating func string() throws -> String {
        i += 1  // opening quote
        let start = i
        // Fast path: no escapes.
        while i < buf.count {
            let c = buf[i]
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: buf[start..<i])
                guard let s = String(validating: slice, as: UTF8.self) else { throw error(.invalidUTF8) }
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error(.controlCharacter(byte: c)) }
            i += 1
        }
        var bytes = Array(UnsafeBufferPointer(rebasing: buf[start..<i]))
        while i < buf.count {
            let c = buf[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard let s = String(validating: bytes, as: UTF8.self) else { throw error(.invalidUTF8) }
                return s
            }
            if c < 0x20 { throw error(.controlCharacter(byte: c)) }
            if c != UInt8(ascii: "\\") { bytes.append(c); i += 1; continue }
            i += 1
            guard i < buf.count else { break }
            let e = buf[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C)
            case UInt8(ascii: "/"): bytes.append(0x2F)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800, scalar < 0xDC00 {
                    guard i + 6 <= buf.count, buf[i] == UInt8(ascii: "\\"), buf[i + 1] == UInt8(ascii: "u") else {
                        throw error(.invalidEscape("unpaired UTF-16 surrogate"))
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00, low < 0xE000 else { throw error(.invalidEscape("UTF-16 surrogate pair with a bad low half")) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00, scalar < 0xE000 {
                    throw error(.invalidEscape("unpaired UTF-16 surrogate"))
                }
                guard let u = UnicodeScalar(scalar) else { throw error(.invalidEscape("\\u escape out of range")) }
                bytes.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw error(.invalidEscape("'\\\(Character(UnicodeScalar(e)))'"))
            }
        }
        throw error(.unterminatedString)
    }
}
