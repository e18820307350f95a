/// Why a JSON text could not be parsed, and where: the byte offset and the line and column of that byte.
///
/// `description` reads `line 2, column 5: expected ':' after object key`; ``reason`` says what went wrong
/// for code that needs to tell cases apart (a half-written last line ends in ``Reason/unexpectedEnd(inside:)``).
public struct JSONParseError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What the parser found wrong.
    public enum Reason: Sendable, Equatable {
        /// The text ended before the value did (inside an `"object"` or `"array"`, or nil at the top level).
        case unexpectedEnd(inside: String?)
        /// Arrays and objects nested deeper than `limit` levels.
        case nestedTooDeep(limit: Int)
        /// A byte that cannot start a value (0 for a NUL byte).
        case unexpectedByte(UInt8)
        /// Something that starts like `literal` (`true`, `false`, `null`, `NaN`, `Infinity`) but is not it.
        case invalidLiteral(expected: String)
        /// A grammar token is missing: `"a string key in object"`, `"':' after object key"`, `"',' or '}' in object"`.
        case expected(String)
        /// A malformed number; `text` is what was read of it.
        case invalidNumber(text: String)
        /// A string whose bytes are not valid UTF-8.
        case invalidUTF8
        /// A raw control character (`byte` < 0x20; 0 is a NUL byte) inside a string.
        case controlCharacter(byte: UInt8)
        /// A bad escape sequence in a string (`\q`, a truncated `\u12`, a lone UTF-16 surrogate).
        case invalidEscape(String)
        /// A string with no closing quote.
        case unterminatedString
        /// More text after one complete value.
        case trailingData
    }

    /// What went wrong.
    public var reason: Reason
    /// Byte offset (0-based) where parsing stopped.
    public var offset: Int
    /// 1-based line of that byte.
    public var line: Int
    /// 1-based column (in characters, not bytes) of that byte.
    public var column: Int

    public init(_ reason: Reason, offset: Int, line: Int, column: Int = 1) {
        self.reason = reason; self.offset = offset; self.line = line; self.column = column
    }

    /// The reason in words, without the position.
    public var message: String {
        switch reason {
        case .unexpectedEnd(let inside): return "unexpected end of input" + (inside.map { " inside \($0)" } ?? "")
        case .nestedTooDeep(let limit): return "JSON nested deeper than \(limit) levels"
        case .unexpectedByte(0): return "NUL byte where a JSON value was expected"
        case .unexpectedByte(let c):
            let shown = c >= 0x20 && c < 0x7F ? "'\(Character(UnicodeScalar(c)))'" : "byte 0x" + Self.hex(c)
            return "unexpected \(shown) where a JSON value was expected"
        case .invalidLiteral(let word): return "invalid literal (expected \(word))"
        case .expected(let what): return "expected \(what)"
        case .invalidNumber(let text): return "invalid number '\(text)'"
        case .invalidUTF8: return "invalid UTF-8 in string"
        case .controlCharacter(0): return "NUL byte inside string"
        case .controlCharacter(let c): return "unescaped control character (byte 0x\(Self.hex(c))) in string"
        case .invalidEscape(let what): return "invalid escape: \(what)"
        case .unterminatedString: return "unterminated string"
        case .trailingData: return "unexpected data after the JSON value"
        }
    }

    public var description: String { "line \(line), column \(column): \(message)" }

    private static func hex(_ c: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(c >> 4)], digits[Int(c & 0xF)]])
    }
}
