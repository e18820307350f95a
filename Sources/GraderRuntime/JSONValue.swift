import Foundation

/// A JSON value as graders exchange it: samples, outputs and manifests.
///
/// rft parses grader output with its own bounded parser (``JSONValue/parse(_:)``) so that hostile output
/// (invalid UTF-8, NUL bytes, nesting 10,000 deep, `NaN`) becomes a clear error instead of a crash.
/// Object key order is kept, so a sample goes to the grader as the user wrote it.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var doubleValue: Double? { if case .number(let d) = self { return d }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// The JSON type name used in error messages ("string", "number", ...).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// A JSON object that keeps its keys in insertion order.
///
/// Small objects (the common case: samples, messages, output entries) are a plain list of pairs searched
/// linearly; an index is built only past ``indexThreshold`` keys. This keeps parsing cheap.
public struct JSONObject: Sendable, Equatable, Sequence {
    static let indexThreshold = 16
    private var pairs: [(key: String, value: JSONValue)] = []
    private var index: [String: Int]?

    public init() {}
    public init(_ pairs: [(String, JSONValue)]) { for (k, v) in pairs { self[k] = v } }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        for i in pairs.indices where pairs[i].key == key { return i }
        return nil
    }

    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { pairs[$0].value } }
        set {
            if let i = position(of: key) {
                if let newValue {
                    pairs[i].value = newValue
                } else {
                    pairs.remove(at: i)
                    if index != nil { rebuildIndex() }
                }
            } else if let newValue {
                pairs.append((key, newValue))
                if index != nil { index![key] = pairs.count - 1 } else if pairs.count > Self.indexThreshold { rebuildIndex() }
            }
        }
    }

    /// Appends without checking for an existing key (the parser's fast path; a repeated key keeps the first value).
    mutating func appendParsed(_ key: String, _ value: JSONValue) {
        if pairs.count < Self.indexThreshold && index == nil {
            for p in pairs where p.key == key { return }
            pairs.append((key, value))
        } else if position(of: key) == nil {
            pairs.append((key, value))
            if index != nil { index![key] = pairs.count - 1 } else { rebuildIndex() }
        }
    }

    private mutating func rebuildIndex() {
        var d: [String: Int] = [:]
        d.reserveCapacity(pairs.count)
        for (i, p) in pairs.enumerated() { d[p.key] = i }
        index = d
    }

    public var keys: [String] { pairs.map(\.key) }
    public var count: Int { pairs.count }
    public var isEmpty: Bool { pairs.isEmpty }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> { pairs.makeIterator() }

    /// Objects are equal when they hold the same keys with equal values, in any order.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        for p in a.pairs where b[p.key] != p.value { return false }
        return true
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral v: String) { self = .string(v) }
    public init(floatLiteral v: Double) { self = .number(v) }
    public init(integerLiteral v: Int) { self = .number(Double(v)) }
    public init(booleanLiteral v: Bool) { self = .bool(v) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
    public init(nilLiteral: ()) { self = .null }
}

/// Why a JSON text could not be parsed, with the byte offset (and line) where it went wrong.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// Byte offset (0-based) where parsing stopped.
    public var offset: Int
    /// 1-based line and column (in characters) of that byte.
    public var line: Int
    public var column: Int
    public init(message: String, offset: Int, line: Int, column: Int = 1) {
        self.message = message; self.offset = offset; self.line = line; self.column = column
    }
    public var description: String { "line \(line), column \(column): \(message)" }
}

extension JSONValue {
    /// `.number` for a finite value, `.null` otherwise (JSON has no NaN).
    public static func num(_ v: Double?) -> JSONValue {
        guard let v, v.isFinite else { return .null }
        return .number(v)
    }

    /// Encodes any `Encodable` value into a `JSONValue` tree with Foundation's `JSONEncoder`
    /// (so `CodingKeys` apply); `.null` when the value cannot be encoded (a non-finite number, say).
    public static func from<T: Encodable>(_ value: T) -> JSONValue {
        guard let data = try? JSONEncoder().encode(value), let json = try? parse(Array(data)) else { return .null }
        return json
    }
}
