import Foundation
import GraderRuntime
import JSON

/// The YAML subset that training configs need: nested block mappings, block lists (`- item`),
/// scalars (numbers, booleans, null, plain or quoted strings), `#` comments, and flow
/// values written as JSON (`[1, 2]`, `{"a": 1}`). Anchors, multi-line strings and tags are rejected.
enum MiniYAML {
    struct SyntaxError: Error, CustomStringConvertible {
        var line: Int; var message: String
        var description: String { "YAML line \(line): \(message)" }
    }

    private struct Line { var number: Int; var indent: Int; var text: String }

    static func parse(_ text: String) throws -> JSONValue {
        var lines: [Line] = []
        for (i, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let stripped = stripComment(String(rawLine))
            let trimmed = stripped.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed == "---" { continue }
            if stripped.contains("\t") { throw SyntaxError(line: i + 1, message: "tabs are not allowed for indentation") }
            let indent = stripped.prefix { $0 == " " }.count
            lines.append(Line(number: i + 1, indent: indent, text: trimmed))
        }
        var pos = 0
        if lines.isEmpty { return .object([:]) }
        let value = try block(lines, &pos, indent: lines[0].indent)
        if pos < lines.count { throw SyntaxError(line: lines[pos].number, message: "unexpected indentation") }
        return value
    }

    private static func block(_ lines: [Line], _ pos: inout Int, indent: Int) throws -> JSONValue {
        if lines[pos].text.hasPrefix("- ") || lines[pos].text == "-" {
            var items: [JSONValue] = []
            while pos < lines.count, lines[pos].indent == indent, lines[pos].text.hasPrefix("-") {
                let line = lines[pos]
                let rest = String(line.text.dropFirst()).trimmingCharacters(in: .whitespaces)
                pos += 1
                if rest.isEmpty {
                    guard pos < lines.count, lines[pos].indent > indent else { items.append(.null); continue }
                    items.append(try block(lines, &pos, indent: lines[pos].indent))
                } else if let colon = keyColon(rest) {
                    // "- key: value" starts an inline mapping whose further keys sit at indent + 2.
                    var sub = lines
                    let childIndent = indent + 2
                    sub[pos - 1] = Line(number: line.number, indent: childIndent, text: rest)
                    _ = colon
                    var p = pos - 1
                    items.append(try block(sub, &p, indent: childIndent))
                    pos = p
                } else {
                    items.append(try scalar(rest, line: line.number))
                }
            }
            return .array(items)
        }
        var object: JSONObject = [:]
        while pos < lines.count, lines[pos].indent == indent {
            let line = lines[pos]
            guard let colon = keyColon(line.text) else {
                throw SyntaxError(line: line.number, message: "expected 'key: value'")
            }
            var key = String(line.text[..<colon]).trimmingCharacters(in: .whitespaces)
            if key.count >= 2, key.first == "\"" || key.first == "'", key.last == key.first {
                key = String(key.dropFirst().dropLast())
            }
            let rest = String(line.text[line.text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            pos += 1
            if object[key] != nil { throw SyntaxError(line: line.number, message: "duplicate key '\(key)'") }
            if rest.isEmpty {
                if pos < lines.count, lines[pos].indent > indent {
                    object[key] = try block(lines, &pos, indent: lines[pos].indent)
                } else if pos < lines.count, lines[pos].indent == indent, lines[pos].text.hasPrefix("-") {
                    object[key] = try block(lines, &pos, indent: indent)
                } else {
                    object[key] = .null
                }
            } else {
                object[key] = try scalar(rest, line: line.number)
            }
        }
        if pos < lines.count, lines[pos].indent > indent {
            throw SyntaxError(line: lines[pos].number, message: "unexpected indentation")
        }
        return .object(object)
    }

    /// The index of the `:` that ends a mapping key, ignoring colons inside quotes or URLs.
    private static func keyColon(_ text: String) -> String.Index? {
        var quote: Character? = nil
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if let q = quote { if c == q { quote = nil } }
            else if c == "\"" || c == "'" { if i == text.startIndex { quote = c } }
            else if c == "{" || c == "[" { return nil }
            else if c == ":" {
                let next = text.index(after: i)
                if next == text.endIndex || text[next] == " " { return i }
            }
            i = text.index(after: i)
        }
        return nil
    }

    private static func stripComment(_ s: String) -> String {
        var quote: Character? = nil
        var prev: Character = " "
        for (offset, c) in s.enumerated() {
            if let q = quote { if c == q { quote = nil } }
            else if c == "\"" || c == "'" { quote = c }
            else if c == "#", prev == " " || offset == 0 { return String(s.prefix(offset)) }
            prev = c
        }
        return s
    }

    private static func scalar(_ s: String, line: Int) throws -> JSONValue {
        if s.hasPrefix("&") || s.hasPrefix("*") || s.hasPrefix("!") || s == "|" || s == ">" {
            throw SyntaxError(line: line, message: "anchors, tags and block strings are not supported; use JSON for this config")
        }
        if s.hasPrefix("[") || s.hasPrefix("{") || s.hasPrefix("\"") {
            do { return try JSONValue.parse(s) } catch { throw SyntaxError(line: line, message: "invalid flow value \(s)") }
        }
        if s.hasPrefix("'"), s.hasSuffix("'"), s.count >= 2 {
            return .string(String(s.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'"))
        }
        switch s {
        case "true", "True", "TRUE", "yes", "on": return .bool(true)
        case "false", "False", "FALSE", "no", "off": return .bool(false)
        case "null", "~", "Null", "NULL": return .null
        default: break
        }
        if let d = Double(s), s.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true { return .number(d) }
        return .string(s)
    }
}
