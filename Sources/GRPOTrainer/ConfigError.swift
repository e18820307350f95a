import Foundation
import GraderRuntime
import JSON

/// A training config that cannot be used, naming the field and what is allowed.
public enum ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read or parsed.
    case unreadable(path: String, reason: String)
    /// A required field is absent.
    case missing(field: String, hint: String)
    /// A field has the wrong JSON type.
    case wrongType(field: String, expected: String, got: String)
    /// A value is outside its allowed range or set.
    case outOfRange(field: String, value: String, allowed: String)
    /// A field name the trainer does not know (usually a typo).
    case unknownField(field: String, known: [String])
    /// Every unknown field of a config at once, each with the known name it is probably a typo of.
    case unknownFields([UnknownField])
    /// A command-line override that is not `key=value`.
    case badOverride(String)
    /// A command-line option whose value cannot be used (`--max-tokens 300`).
    case badOption(option: String, value: String, allowed: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read config \(path): \(reason)"
        case .missing(let field, let hint): return "config field '\(field)' is required: \(hint)"
        case .wrongType(let field, let expected, let got):
            return "config field '\(field)' must be \(expected), got \(got)"
        case .outOfRange(let field, let value, let allowed):
            return "config field '\(field)' = \(value) is out of range; allowed: \(allowed)"
        case .unknownField(let field, let known):
            let name = String(field.split(separator: ".").last ?? Substring(field))
            if let guess = didYouMean(name, known) { return "unknown config field '\(field)' (did you mean '\(guess)'?)" }
            return "unknown config field '\(field)'; known fields here: \(known.joined(separator: ", "))"
        case .unknownFields(let fields):
            if fields.count == 1 { return fields[0].description }
            return "\(fields.count) unknown config fields:\n" + fields.map { "  " + $0.description }.joined(separator: "\n")
        case .badOverride(let text): return "override '\(text)' must look like key=value (e.g. learning_rate=1e-5)"
        case .badOption(let option, let value, let allowed): return "\(option) \(value) is out of range; allowed: \(allowed)"
        }
    }
}

/// A config key nobody reads, with its likely intended name.
public struct UnknownField: Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var suggestion: String?
    /// The names allowed where it sits (listed when there is no suggestion).
    public var known: [String]
    public var description: String {
        if let suggestion { return "unknown config field '\(field)' (did you mean '\(suggestion)'?)" }
        return "unknown config field '\(field)'; known fields here: \(known.joined(separator: ", "))"
    }
}

/// The shape of a config: the keys each object may hold (nested objects by name).
indirect enum ConfigSchema {
    case object([String: ConfigSchema])
    /// Anything (a scalar, or an object checked elsewhere such as `model.config`).
    case any

    /// Every key of `value` the schema does not know, with a "did you mean" each, in path order.
    func unknownFields(in value: JSONValue, path: String = "") -> [UnknownField] {
        guard case .object(let keys) = self, case .object(let o) = value else { return [] }
        var out: [UnknownField] = []
        for key in o.keys.sorted() {
            let name = path.isEmpty ? key : "\(path).\(key)"
            if let sub = keys[key] {
                out += sub.unknownFields(in: o[key]!, path: name)
            } else {
                out.append(UnknownField(field: name, suggestion: didYouMean(key, keys.keys), known: keys.keys.sorted()))
            }
        }
        return out
    }
}

/// Reads typed fields of one JSON object, tracking the field path for errors and
/// rejecting keys nobody asked for.
struct FieldReader {
    let path: String
    let object: JSONObject
    private(set) var known: [String] = []

    init(_ value: JSONValue, path: String) throws {
        guard case .object(let o) = value else {
            throw ConfigError.wrongType(field: path.isEmpty ? "<root>" : path, expected: "an object", got: value.typeName)
        }
        self.path = path
        self.object = o
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func raw(_ key: String) -> JSONValue? {
        known.append(key)
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    mutating func string(_ key: String) throws -> String? {
        guard let v = raw(key) else { return nil }
        guard let s = v.stringValue else { throw ConfigError.wrongType(field: name(key), expected: "a string", got: v.typeName) }
        return s
    }

    mutating func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let v = raw(key) else { return d }
        guard let b = v.boolValue else { throw ConfigError.wrongType(field: name(key), expected: "true or false", got: v.typeName) }
        return b
    }

    mutating func double(_ key: String, default d: Double?, _ range: ClosedRange<Double>,
                         openLower: Bool = false) throws -> Double? {
        guard let v = raw(key) else { return d }
        guard let x = v.doubleValue else { throw ConfigError.wrongType(field: name(key), expected: "a number", got: v.typeName) }
        let allowed = openLower ? "\(fmt(range.lowerBound)) < x ≤ \(fmt(range.upperBound))"
                                : "\(fmt(range.lowerBound)) ≤ x ≤ \(fmt(range.upperBound))"
        if !x.isFinite || !range.contains(x) || (openLower && x == range.lowerBound) {
            throw ConfigError.outOfRange(field: name(key), value: fmt(x), allowed: allowed)
        }
        return x
    }

    mutating func int(_ key: String, default d: Int?, _ range: ClosedRange<Int>) throws -> Int? {
        guard let v = raw(key) else { return d }
        guard let x = v.doubleValue, x == x.rounded(), abs(x) < 1e12 else {
            throw ConfigError.wrongType(field: name(key), expected: "an integer", got: v.doubleValue.map { fmt($0) } ?? v.typeName)
        }
        let i = Int(x)
        guard range.contains(i) else {
            throw ConfigError.outOfRange(field: name(key), value: "\(i)", allowed: "\(range.lowerBound) to \(range.upperBound)")
        }
        return i
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ key: String, default d: E?) throws -> E? where E.RawValue == String {
        guard let s = try string(key) else { return d }
        guard let e = E(rawValue: s) else {
            throw ConfigError.outOfRange(field: name(key), value: "\"\(s)\"",
                                         allowed: E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " | "))
        }
        return e
    }

    /// Throws for any key that was never read.
    func finish() throws {
        for key in object.keys.sorted() where !known.contains(key) {
            throw ConfigError.unknownField(field: name(key), known: known)
        }
    }
}

func fmt(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e9 { return String(Int(x)) }
    return "\(x)"
}
